/**
 * @module Route definitions and the one pipeline every data request takes, over the wire or inside a $batch:
 * authenticate → permission → Defender rate limit → injected status fault → handler → record.
 */
import { apiError } from './errors.js'
import type { FaultInjector } from './faults.js'
import type { SkipTokens } from './odata.js'
import { DEFENDER_AUDIENCE_ALIASES, delegatedEquivalents, GRAPH_AUDIENCE } from './permissions.js'
import type { SimState } from './state.js'
import type { TokenClaims, TokenIssuer } from './token.js'
import type { ApiKind, PagedCollection, SimRequest, SimResponse } from './types.js'

export type GraphVersion = 'v1.0' | 'beta'
export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/** What every route sees of the running simulator. */
export interface SimContext {
  state: SimState
  tenantId: string
  /** Origin the simulator listens on (known once listening). */
  baseUrl: () => string
  issuer: TokenIssuer
  faults: FaultInjector
  skipTokens: SkipTokens
  pageSize: Record<PagedCollection, number>
  defenderLimiter: { admit(appId: string): { ok: true } | { ok: false; retryAfterS: number } }
}

export interface RouteContext {
  req: SimRequest
  params: Record<string, string>
  sim: SimContext
  claims: TokenClaims
  /** Graph version the request used; null for Defender. */
  version: GraphVersion | null
}

export interface RouteDef {
  method: Method
  /** Graph: path after the version (`/devices/:id`); Defender: the full path (`/api/machines/:id`). */
  path: string
  api: ApiKind
  /**
   * Any one of these application permissions allows an app-only call, any of their delegated equivalents
   * (permissions.ts) a user's call; the first is named when none is held.
   */
  permissions: readonly string[]
  /** Graph versions serving the route (default both). */
  versions?: readonly GraphVersion[]
  handle(ctx: RouteContext): SimResponse | Promise<SimResponse>
}

/** A route bound to one full path. */
export interface BoundRoute {
  def: RouteDef
  fullPath: string
  version: GraphVersion | null
  pattern: RegExp
  paramNames: string[]
}

const MUTATING = new Set(['POST', 'PATCH', 'DELETE', 'PUT'])

export function bindRoutes(defs: readonly RouteDef[]): BoundRoute[] {
  const bound: BoundRoute[] = []
  for (const def of defs) {
    const versions: (GraphVersion | null)[] =
      def.api === 'graph' ? [...(def.versions ?? ['v1.0', 'beta'])] : [null]
    for (const version of versions) {
      const fullPath = version ? `/${version}${def.path}` : def.path
      const paramNames: string[] = []
      const source = fullPath
        .split('/')
        .map((seg) => {
          if (seg.startsWith(':')) {
            paramNames.push(seg.slice(1))
            return '([^/]+)'
          }
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        })
        .join('/')
      bound.push({ def, fullPath, version, pattern: new RegExp(`^${source}$`, 'i'), paramNames })
    }
  }
  return bound
}

/** Finds the route for a method and path (used for $batch items; the server lets Fastify route). */
export function matchRoute(
  routes: readonly BoundRoute[],
  method: string,
  path: string,
): { route: BoundRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.def.method !== method) continue
    const m = route.pattern.exec(path)
    if (!m) continue
    const params: Record<string, string> = {}
    route.paramNames.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1]!)
    })
    return { route, params }
  }
  return undefined
}

type AuthResult = { ok: true; claims: TokenClaims } | { ok: false; response: SimResponse }

function unauthorized(api: ApiKind, message: string): AuthResult {
  // Graph: "InvalidAuthenticationToken"; Defender lists 401 as "Unauthorized" (reference §4.6).
  const code = api === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized'
  return { ok: false, response: apiError(api, 401, code, message) }
}

export function authenticate(req: SimRequest, api: ApiKind, sim: SimContext): AuthResult {
  const header = req.headers.authorization ?? ''
  const m = /^Bearer\s+(.*)$/i.exec(header)
  const token = m?.[1]?.trim() ?? ''
  if (!token) return unauthorized(api, 'Access token is empty.')
  const verified = sim.issuer.verify(token)
  if (!verified.ok) {
    if (verified.reason === 'expired')
      return unauthorized(api, 'Lifetime validation failed, the token is expired.')
    if (verified.reason === 'signature')
      return unauthorized(api, 'Access token validation failure. Invalid signature.')
    return unauthorized(api, 'IDX14100: JWT is not well formed.')
  }
  const aud = verified.claims.aud
  const audOk =
    api === 'graph' ? aud === GRAPH_AUDIENCE : (DEFENDER_AUDIENCE_ALIASES as readonly string[]).includes(aud)
  if (!audOk) return unauthorized(api, 'Access token validation failure. Invalid audience.')
  return { ok: true, claims: verified.claims }
}

/** The appid of a request's token, if it carries a valid one (for recording calls that never reached a handler). */
export function clientIdOf(req: SimRequest, sim: SimContext): string | null {
  const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim()
  if (!token) return null
  const verified = sim.issuer.verify(token)
  return verified.ok ? verified.claims.appid : null
}

export interface MissingPermission {
  kind: 'application' | 'delegated'
  /** The least privileged permission that would allow the call. */
  name: string
}

/**
 * Whether a token may call a route: app-only tokens by their roles, user tokens by their scopes (`scp`), so a user
 * token never passes on an application permission nor an app token on a scope. Null when allowed.
 */
export function missingPermission(
  permissions: readonly string[],
  claims: TokenClaims,
): MissingPermission | null {
  if (claims.idtyp === 'user') {
    const scopes = (claims.scp ?? '').split(' ')
    const allowed = delegatedEquivalents(permissions)
    return allowed.some((p) => scopes.includes(p))
      ? null
      : { kind: 'delegated', name: allowed[0] ?? '(none)' }
  }
  const roles = claims.roles ?? []
  return permissions.some((p) => roles.includes(p)) ? null : { kind: 'application', name: permissions[0]! }
}

function forbidden(api: ApiKind, missing: MissingPermission): SimResponse {
  return api === 'graph'
    ? apiError(
        api,
        403,
        'Authorization_RequestDenied',
        `Insufficient privileges to complete the operation. Missing ${missing.kind} permission: ${missing.name}.`,
      )
    : apiError(api, 403, 'Forbidden', `Missing ${missing.kind} permission: ${missing.name}`)
}

export function parseJsonBody(body: string | undefined): unknown {
  if (body === undefined || body === '') return null
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

export interface ExecuteOptions {
  /** Claims already checked: a $batch item inherits the outer request's token, but not its permissions. */
  claims?: TokenClaims
}

/** Runs one data request through the pipeline and records it if it mutates. */
export async function execute(
  route: BoundRoute,
  params: Record<string, string>,
  req: SimRequest,
  sim: SimContext,
  opts: ExecuteOptions = {},
): Promise<SimResponse> {
  const api = route.def.api
  sim.state.settle()
  let clientId: string | null = opts.claims?.appid ?? null
  const respond = (res: SimResponse): SimResponse => {
    if (MUTATING.has(req.method)) {
      sim.state.recordCall({
        method: req.method,
        path: req.path,
        query: req.rawQuery,
        body: parseJsonBody(req.body),
        status: res.status,
        clientId,
      })
    }
    return res
  }
  let claims = opts.claims
  if (!claims) {
    const auth = authenticate(req, api, sim)
    if (!auth.ok) return respond(auth.response)
    claims = auth.claims
    clientId = claims.appid
  }
  const missing = missingPermission(route.def.permissions, claims)
  if (missing) return respond(forbidden(api, missing))
  if (api === 'defender') {
    const admitted = sim.defenderLimiter.admit(claims.appid)
    if (!admitted.ok) {
      return respond(
        apiError(
          api,
          429,
          'TooManyRequests',
          `API calls quota exceeded! Maximum admitted calls per app: the limit will reset in ${admitted.retryAfterS} seconds.`,
          { 'Retry-After': String(admitted.retryAfterS) },
        ),
      )
    }
  }
  const fault = sim.faults.drawStatus(api)
  if (fault) return respond(fault)
  const res = await route.def.handle({ req, params, sim, claims, version: route.version })
  return respond(res)
}
