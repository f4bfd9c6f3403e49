/** @module Client credentials for the built-in simulator on loopback HTTP (never for a real tenant; no @azure/identity needed). */
import { ConfigError, SourceError } from './errors.js'
import type { TokenProvider } from './graph-client.js'

/**
 * OAuth 2.0 client credentials against a token endpoint, for the built-in demo simulator on loopback HTTP
 * (@azure/identity rightly refuses a non-HTTPS authority). Never used for a real tenant.
 */
export class LoopbackClientCredentials implements TokenProvider {
  private readonly cache = new Map<string, string>()
  constructor(
    private readonly authorityHost: string,
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {
    const host = new URL(authorityHost).hostname
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
      throw new ConfigError(`the loopback sign-in is only for the local simulator, not ${authorityHost}.`)
    }
  }

  async getToken(scope: string, options?: { forceRefresh?: boolean }): Promise<string> {
    const hit = this.cache.get(scope)
    if (hit && !options?.forceRefresh) return hit
    const res = await fetch(`${this.authorityHost}/${this.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: this.clientId,
        client_secret: this.clientSecret,
        scope,
      }),
    })
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; error_description?: string }
    if (!res.ok || !body.access_token) {
      throw new SourceError(
        `sign-in to the simulator failed: ${body.error_description ?? `HTTP ${res.status}`}`,
        'sign-in',
        scope,
        res.status,
      )
    }
    this.cache.set(scope, body.access_token)
    return body.access_token
  }
}
