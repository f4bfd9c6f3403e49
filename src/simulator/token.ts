/**
 * @module Microsoft identity platform stand-in, MSAL-compatible: OpenID discovery, keys, and the token endpoint for
 * client credentials (app-only tokens), the device authorization grant and refresh tokens (delegated tokens).
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  DEFENDER_AUDIENCE_ALIASES,
  DELEGATED_DEFENDER_SCOPES,
  DELEGATED_GRAPH_SCOPES,
  GRAPH_AUDIENCE,
  rolesForAudience,
  roleTemplateIds,
  scopesForAudience,
} from './permissions.js'
import type { SimulatorApp, SimulatorUser } from './types.js'

/** Entra answers 3599 for app tokens. */
export const TOKEN_LIFETIME_S = 3599
/** Scopes MSAL may add on its own; they carry no resource. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access'])

/** The Azure CLI's public client id: a Microsoft app every tenant knows, and @azure/identity's default for user sign-in. */
export const DEVELOPER_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
/** Entra's device codes live 15 minutes; clients poll every `interval` seconds (kept short: approval is automatic). */
export const DEVICE_CODE_LIFETIME_S = 900
export const DEVICE_CODE_INTERVAL_S = 1

export interface TokenClaims {
  aud: string
  iss: string
  tid: string
  appid: string
  /** 'app' for client credentials, 'user' for a signed-in user (delegated). */
  idtyp: 'app' | 'user'
  /** App-only tokens: application permissions. */
  roles?: string[]
  /** Delegated tokens: the consented scopes, space-separated. */
  scp?: string
  /** Delegated tokens: the user's directory role template ids. */
  wids?: string[]
  /** Delegated tokens: the user principal name. */
  upn?: string
  iat: number
  nbf: number
  exp: number
}

/** A configured user with the object id their tokens carry (stable per UPN, so repeated sign-ins agree). */
export interface SignedInUser extends SimulatorUser {
  oid: string
  wids: string[]
}

export function signedInUser(user: SimulatorUser): SignedInUser {
  const h = createHash('sha256').update(user.upn.toLowerCase()).digest('hex')
  const oid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
  return { ...user, oid, wids: roleTemplateIds(user) }
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' }

const ALL_DELEGATED_SCOPES: readonly string[] = [...DELEGATED_GRAPH_SCOPES, ...DELEGATED_DEFENDER_SCOPES]

/** The delegated scopes a user's token for `audience` carries. */
export function userScopes(user: SimulatorUser, audience: string): string[] {
  return scopesForAudience(user.scopes ?? ALL_DELEGATED_SCOPES, audience)
}

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
    return this.encode({
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
    })
  }

  /** A delegated access token: the user's consented scopes for `audience` in `scp`, their roles in `wids`. */
  issueForUser(user: SignedInUser, clientId: string, audience: string): string {
    const iat = Math.floor(this.clock() / 1000)
    return this.encode({
      aud: audience,
      iss: `https://sts.windows.net/${this.tenantId}/`,
      tid: this.tenantId,
      appid: clientId,
      scp: userScopes(user, audience).join(' '),
      wids: user.wids,
      upn: user.upn,
      name: user.upn.split('@')[0],
      iat,
      nbf: iat,
      exp: iat + TOKEN_LIFETIME_S,
      idtyp: 'user',
      oid: user.oid,
      ver: '1.0',
    })
  }

  /** The OpenID id token MSAL builds its account from (it reads the claims; it does not check the signature). */
  idToken(user: SignedInUser, clientId: string, issuer: string): string {
    const iat = Math.floor(this.clock() / 1000)
    return this.encode({
      aud: clientId,
      iss: issuer,
      tid: this.tenantId,
      oid: user.oid,
      sub: user.oid,
      preferred_username: user.upn,
      name: user.upn.split('@')[0],
      iat,
      nbf: iat,
      exp: iat + TOKEN_LIFETIME_S,
      ver: '2.0',
    })
  }

  private encode(claims: Record<string, unknown>): string {
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
  /** Who approves device codes (there is no browser): null when the simulator has no users. */
  approver?: SignedInUser | null
  /** How many polls answer `authorization_pending` before the approval (default 1). */
  pendingPolls?: number
  clock?: () => number
}

/** A device code waiting for its client to poll. */
interface PendingDeviceCode {
  clientId: string
  audience: string
  polls: number
  expiresAt: number
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
 * For the device code flow MSAL posts to the token endpoint's sibling `/devicecode`, calls `userPromptCallback` with the
 * `message`, then polls the token endpoint every `interval` seconds while the answer is `authorization_pending`. With
 * the id token and `client_info` it caches an account, so a token for a second resource comes from the refresh token.
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
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nbf',
        'tid',
        'appid',
        'roles',
        'scp',
        'wids',
        'upn',
      ],
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

  const clock = ctx.clock ?? Date.now
  const pendingPolls = ctx.pendingPolls ?? 1
  const deviceCodes = new Map<string, PendingDeviceCode>()
  const refreshTokens = new Map<string, { clientId: string; user: SignedInUser }>()
  // Public clients: the configured apps and the Azure CLI's id, which @azure/identity uses when none is given.
  const publicClient = (id: string) =>
    id.toLowerCase() === DEVELOPER_CLIENT_ID ||
    ctx.apps.some((a) => a.clientId.toLowerCase() === id.toLowerCase())
  const unknownClient = (reply: FastifyReply, id: string) =>
    aadError(
      reply,
      400,
      'unauthorized_client',
      `AADSTS700016: Application with identifier '${id}' was not found in the directory '${ctx.tenantId}'.`,
    )
  const invalidScope = (reply: FastifyReply, scope: string) =>
    aadError(
      reply,
      400,
      'invalid_scope',
      `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '${scope}' must name one resource with /.default (the simulator knows Microsoft Graph and Defender for Endpoint).`,
    )

  /** The delegated answer: access token, refresh token, and the id token and client_info MSAL builds its account from. */
  const userTokens = (reply: FastifyReply, user: SignedInUser, clientId: string, audience: string) => {
    const refresh = randomBytes(32).toString('base64url')
    refreshTokens.set(refresh, { clientId, user })
    const access = ctx.issuer.issueForUser(user, clientId, audience)
    const scopes = userScopes(user, audience)
    return reply.header('cache-control', 'no-store, no-cache').send({
      token_type: 'Bearer',
      scope: [...scopes.map((x) => `${audience}/${x}`), 'openid', 'profile', 'offline_access'].join(' '),
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: access,
      refresh_token: refresh,
      id_token: ctx.issuer.idToken(user, clientId, `${ctx.baseUrl()}/${ctx.tenantId}/v2.0`),
      client_info: Buffer.from(JSON.stringify({ uid: user.oid, utid: ctx.tenantId })).toString('base64url'),
    })
  }

  // The device authorization grant (RFC 8628) as Entra answers it; MSAL derives this path from token_endpoint.
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/devicecode', async (req, reply) => {
    if (!known(req.params.tenant)) return tenantNotFound(reply, req.params.tenant)
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '')
    const clientId = form.get('client_id') ?? ''
    if (!publicClient(clientId)) return unknownClient(reply, clientId)
    const scope = form.get('scope') ?? ''
    const audience = audienceForScope(scope)
    if (!audience) return invalidScope(reply, scope)
    if (!ctx.approver)
      return aadError(
        reply,
        400,
        'invalid_request',
        'AADSTS50058: The simulator has no user to sign in: pass users to startSimulator.',
      )
    const deviceCode = randomBytes(32).toString('base64url')
    const userCode = randomBytes(6).toString('hex').slice(0, 9).toUpperCase()
    deviceCodes.set(deviceCode, {
      clientId,
      audience,
      polls: 0,
      expiresAt: clock() + DEVICE_CODE_LIFETIME_S * 1000,
    })
    return reply.header('cache-control', 'no-store, no-cache').send({
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: 'https://microsoft.com/devicelogin',
      expires_in: DEVICE_CODE_LIFETIME_S,
      interval: DEVICE_CODE_INTERVAL_S,
      message:
        `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate. ` +
        `(Simulator: ${ctx.approver.upn} approves it automatically.)`,
    })
  })

  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', async (req, reply) => {
    if (!known(req.params.tenant)) return tenantNotFound(reply, req.params.tenant)
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '')
    const grant = form.get('grant_type')
    // RFC 8628 names the grant with a URN; Entra also takes the short name, which MSAL sends.
    if (grant === 'device_code' || grant === 'urn:ietf:params:oauth:grant-type:device_code') {
      const code = form.get('device_code') ?? ''
      const pending = deviceCodes.get(code)
      if (!pending || pending.clientId.toLowerCase() !== (form.get('client_id') ?? '').toLowerCase())
        return aadError(reply, 400, 'invalid_grant', 'AADSTS70000: Provided grant is invalid or malformed.')
      if (clock() >= pending.expiresAt) {
        deviceCodes.delete(code)
        return aadError(reply, 400, 'expired_token', 'AADSTS70019: Verification code expired.')
      }
      if (pending.polls < pendingPolls) {
        pending.polls++
        return aadError(
          reply,
          400,
          'authorization_pending',
          'AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
        )
      }
      // A device code is redeemed once.
      deviceCodes.delete(code)
      return userTokens(reply, ctx.approver!, pending.clientId, pending.audience)
    }
    if (grant === 'refresh_token') {
      const held = refreshTokens.get(form.get('refresh_token') ?? '')
      if (!held || held.clientId.toLowerCase() !== (form.get('client_id') ?? '').toLowerCase())
        return aadError(
          reply,
          400,
          'invalid_grant',
          'AADSTS9002313: Invalid request. Request is malformed or invalid.',
        )
      const scope = form.get('scope') ?? ''
      const audience = audienceForScope(scope)
      if (!audience) return invalidScope(reply, scope)
      return userTokens(reply, held.user, held.clientId, audience)
    }
    if (grant !== 'client_credentials') {
      return aadError(
        reply,
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${grant ?? ''}'. The simulator supports client_credentials, device_code and refresh_token.`,
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
