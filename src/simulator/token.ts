/** @module Microsoft identity platform stand-in: OpenID discovery, keys and the client-credentials token endpoint, MSAL-compatible. */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { DEFENDER_AUDIENCE_ALIASES, GRAPH_AUDIENCE, rolesForAudience } from './permissions.js'
import type { SimulatorApp } from './types.js'

/** Entra answers 3599 for app tokens. */
export const TOKEN_LIFETIME_S = 3599
/** Scopes MSAL may add on its own; they carry no resource. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access'])

export interface TokenClaims {
  aud: string
  iss: string
  tid: string
  appid: string
  roles: string[]
  iat: number
  nbf: number
  exp: number
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' }

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url')
}

/** Issues and checks HS256 JWTs with a secret made at start-up, so tokens never outlive one simulator. */
export class TokenIssuer {
  private readonly secret = randomBytes(32)

  constructor(
    private readonly tenantId: string,
    private readonly clock: () => number,
  ) {}

  issue(app: SimulatorApp, audience: string): string {
    const iat = Math.floor(this.clock() / 1000)
    const claims: TokenClaims & Record<string, unknown> = {
      aud: audience,
      iss: `https://sts.windows.net/${this.tenantId}/`,
      tid: this.tenantId,
      appid: app.clientId,
      roles: rolesForAudience(app.roles, audience),
      iat,
      nbf: iat,
      exp: iat + TOKEN_LIFETIME_S,
      idtyp: 'app',
      oid: randomUUID(),
      ver: '1.0',
    }
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))
    const body = b64url(JSON.stringify(claims))
    return `${head}.${body}.${this.sign(`${head}.${body}`)}`
  }

  verify(token: string): VerifyResult {
    const parts = token.split('.')
    if (parts.length !== 3) return { ok: false, reason: 'malformed' }
    const [head, body, sig] = parts as [string, string, string]
    const expected = Buffer.from(this.sign(`${head}.${body}`))
    const given = Buffer.from(sig)
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'signature' }
    let claims: TokenClaims
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims
    } catch {
      return { ok: false, reason: 'malformed' }
    }
    if (claims.exp * 1000 <= this.clock()) return { ok: false, reason: 'expired' }
    return { ok: true, claims }
  }

  private sign(input: string): string {
    return createHmac('sha256', this.secret).update(input).digest('base64url')
  }
}

export interface TokenRouteContext {
  tenantId: string
  apps: readonly SimulatorApp[]
  issuer: TokenIssuer
  baseUrl: () => string
}

function aadError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  const traceId = randomUUID()
  return reply.code(status).send({
    error,
    error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`,
    error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)],
    timestamp: new Date().toISOString(),
    trace_id: traceId,
  })
}

function tenantNotFound(reply: FastifyReply, tenant: string): FastifyReply {
  return aadError(
    reply,
    400,
    'invalid_tenant',
    `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  )
}

/** Maps `<resource>/.default` to the token audience. */
function audienceForScope(scope: string): string | undefined {
  const resources = scope
    .split(/\s+/)
    .filter((s) => s && !OIDC_SCOPES.has(s))
    .map((s) => (s.endsWith('/.default') ? s.slice(0, -'/.default'.length) : null))
  if (resources.length !== 1 || resources[0] === null) return undefined
  const resource = resources[0]!.replace(/\/$/, '')
  if (resource === GRAPH_AUDIENCE) return GRAPH_AUDIENCE
  if ((DEFENDER_AUDIENCE_ALIASES as readonly string[]).includes(resource)) return resource
  return undefined
}

/** Client id and secret from the form, or from HTTP Basic auth (client_secret_basic). */
function clientCredentials(
  form: URLSearchParams,
  authorization: string | undefined,
): { id: string; secret: string } {
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon > 0)
      return {
        id: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
      }
  }
  return { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' }
}

/**
 * Registers discovery and token routes. MSAL (through @azure/identity with `authorityHost` and
 * `disableInstanceDiscovery: true`) trusts the host as a known authority, then fetches
 * `{authority}/v2.0/.well-known/openid-configuration`; it requires `authorization_endpoint`, `token_endpoint`,
 * `issuer` and `jwks_uri`, and the issuer must share the authority's scheme and host (msal-common Authority.validateIssuer).
 */
export function registerTokenRoutes(app: FastifyInstance, ctx: TokenRouteContext): void {
  const known = (tenant: string): boolean => tenant.toLowerCase() === ctx.tenantId.toLowerCase()

  const openIdConfiguration = (tenant: string) => {
    const base = `${ctx.baseUrl()}/${tenant}`
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${ctx.baseUrl()}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'appid', 'roles'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    }
  }

  app.get<{ Params: { tenant: string } }>(
    '/:tenant/v2.0/.well-known/openid-configuration',
    async (req, reply) => {
      if (!known(req.params.tenant)) return tenantNotFound(reply, req.params.tenant)
      return reply.send(openIdConfiguration(req.params.tenant))
    },
  )

  // HS256 keys are secret, so the key set is empty: nothing here lets a client verify (or forge) a token.
  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/v2.0/keys', async (req, reply) => {
    if (!known(req.params.tenant)) return tenantNotFound(reply, req.params.tenant)
    return reply.send({ keys: [] })
  })

  // Instance discovery, for clients that do not set disableInstanceDiscovery but point it here.
  app.get('/common/discovery/instance', async (_req, reply) => {
    const host = new URL(ctx.baseUrl()).host
    return reply.send({
      tenant_discovery_endpoint: `${ctx.baseUrl()}/${ctx.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    })
  })

  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', async (req, reply) => {
    if (!known(req.params.tenant)) return tenantNotFound(reply, req.params.tenant)
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '')
    const grant = form.get('grant_type')
    if (grant !== 'client_credentials') {
      return aadError(
        reply,
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${grant ?? ''}'. The simulator issues client_credentials tokens only.`,
      )
    }
    const { id, secret } = clientCredentials(form, req.headers.authorization)
    const client = ctx.apps.find((a) => a.clientId.toLowerCase() === id.toLowerCase())
    if (!client) {
      return aadError(
        reply,
        401,
        'invalid_client',
        `AADSTS700016: Application with identifier '${id}' was not found in the directory '${ctx.tenantId}'.`,
      )
    }
    if (!secret) {
      return aadError(
        reply,
        401,
        'invalid_client',
        "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      )
    }
    if (client.clientSecret !== undefined && client.clientSecret !== secret) {
      return aadError(
        reply,
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
      )
    }
    const scope = form.get('scope') ?? ''
    const audience = audienceForScope(scope)
    if (!audience) {
      return aadError(
        reply,
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      )
    }
    return reply.header('cache-control', 'no-store, no-cache').send({
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: ctx.issuer.issue(client, audience),
    })
  })
}
