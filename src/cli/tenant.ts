/** @module Connecting to a tenant: one API client per API, signed in with the configured credential. */
import { isDelegated, SCOPES, type TenantConfig } from '../lib/config.js'
import { ApiClient, type TokenProvider } from '../lib/graph-client.js'
import { logger } from '../lib/log.js'
import { RateLimiter, type RateLimiterOptions, TRANSIT_MARGIN_MS } from '../lib/rate-limiter.js'
import type { LiveClients } from '../sources/read-live.js'

/** Defender for Endpoint: 100 calls per minute and 1,500 per hour for every machine API (reference §4.3). */
export const DEFENDER_LIMITS = [
  { limit: 100, ms: 60_000 },
  { limit: 1_500, ms: 3_600_000 },
]

export interface ClientTuning {
  maxAttempts?: number
  baseBackoffMs?: number
  sleep?: (ms: number) => Promise<void>
}

/** The Defender client's limiter: every machine API shares 100/min and 1,500/h per app, with the transit margin. */
export function defenderLimiter(clock: Pick<RateLimiterOptions, 'now' | 'sleep'> = {}): RateLimiter {
  return new RateLimiter({ windows: DEFENDER_LIMITS, marginMs: TRANSIT_MARGIN_MS, ...clock })
}

/** API clients for a tenant's endpoints and a token provider. */
export function clientsFor(
  endpoints: { graph: string; defender: string },
  tokens: TokenProvider,
  tuning: ClientTuning = {},
): LiveClients {
  const log = logger()
  // Evolvable enums: without this header Graph v1.0 reports newer members (Android Enterprise and AOSP enrollment
  // types, the intuneAosp agent) as unknownFutureValue — the very values the wipe warnings and skips rely on.
  const graphHeaders = { Prefer: 'include-unknown-enum-members' }
  const graphBeta = endpoints.graph.replace(/\/v1\.0$/, '/beta')
  return {
    graph: new ApiClient({
      name: 'Microsoft Graph',
      baseUrl: endpoints.graph,
      scope: SCOPES.graph,
      tokens,
      log,
      headers: graphHeaders,
      ...tuning,
    }),
    graphBeta: new ApiClient({
      name: 'Microsoft Graph (beta)',
      baseUrl: graphBeta,
      scope: SCOPES.graph,
      tokens,
      log,
      headers: graphHeaders,
      ...tuning,
    }),
    defender: new ApiClient({
      name: 'Defender for Endpoint',
      baseUrl: endpoints.defender,
      scope: SCOPES.defender,
      tokens,
      log,
      limiter: defenderLimiter(),
      ...tuning,
    }),
  }
}

/** Signs in lazily: @azure/identity loads only for commands that reach a tenant, keeping `--help` fast. */
export async function connectTenant(
  config: TenantConfig,
): Promise<{ clients: LiveClients; tokens: TokenProvider; delegated: boolean }> {
  const { CredentialTokenProvider, createCredential } = await import('../lib/auth.js')
  const describe = `${config.auth} sign-in to tenant ${config.tenantId}${config.clientId ? ` as app ${config.clientId}` : ''}`
  const tokens = new CredentialTokenProvider(createCredential(config), describe)
  return { clients: clientsFor(config.endpoints, tokens), tokens, delegated: isDelegated(config.auth) }
}
