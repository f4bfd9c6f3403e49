/**
 * @module Sign-in: client secret, certificate, managed identity, and device code / interactive browser for the
 * delegated case, all through @azure/identity. Tokens are never printed or logged.
 */
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DeviceCodeCredential,
  InteractiveBrowserCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity'
import type { TenantConfig } from './config.js'
import { DEFAULT_ENDPOINTS } from './config.js'
import { ConfigError, SourceError } from './errors.js'
import type { TokenProvider } from './graph-client.js'

/** Microsoft's public cloud authority; any other host (a sovereign cloud, the simulator) skips instance discovery. */
const PUBLIC_AUTHORITY = new URL(DEFAULT_ENDPOINTS.authorityHost).host

export function createCredential(config: TenantConfig): TokenCredential {
  const common = {
    authorityHost: config.endpoints.authorityHost,
    disableInstanceDiscovery: new URL(config.endpoints.authorityHost).host !== PUBLIC_AUTHORITY,
  }
  switch (config.auth) {
    case 'secret':
      return new ClientSecretCredential(config.tenantId, config.clientId!, config.clientSecret!, common)
    case 'certificate':
      return new ClientCertificateCredential(
        config.tenantId,
        config.clientId!,
        { certificatePath: config.certificatePath! },
        common,
      )
    case 'managedIdentity':
      return config.clientId
        ? new ManagedIdentityCredential({ clientId: config.clientId })
        : new ManagedIdentityCredential()
    case 'deviceCode':
      return new DeviceCodeCredential({
        tenantId: config.tenantId,
        ...(config.clientId ? { clientId: config.clientId } : {}),
        ...common,
        // The prompt goes to stderr so that --format json keeps stdout clean.
        userPromptCallback: (info) => {
          process.stderr.write(`${info.message}\n`)
        },
      })
    case 'browser':
      return new InteractiveBrowserCredential({
        tenantId: config.tenantId,
        ...(config.clientId ? { clientId: config.clientId } : {}),
        ...common,
      })
  }
}

/** Adapts an @azure/identity credential, caching each scope's token until shortly before it expires. */
export class CredentialTokenProvider implements TokenProvider {
  private readonly cache = new Map<string, { token: string; expires: number }>()
  constructor(
    private readonly credential: TokenCredential,
    private readonly describe: string,
  ) {}

  async getToken(scope: string, options?: { forceRefresh?: boolean }): Promise<string> {
    const hit = this.cache.get(scope)
    if (hit && !options?.forceRefresh && hit.expires - Date.now() > 60_000) return hit.token
    let result: Awaited<ReturnType<TokenCredential['getToken']>>
    try {
      result = await this.credential.getToken(scope)
    } catch (err) {
      throw new SourceError(
        `sign-in failed (${this.describe}) for ${scope}: ${firstLine((err as Error).message)}`,
        'sign-in',
        scope,
        null,
        'Check the tenant id, client id and secret or certificate, and that the app has admin consent; run offboard doctor.',
      )
    }
    if (!result) throw new ConfigError(`sign-in returned no token for ${scope}.`)
    this.cache.set(scope, { token: result.token, expires: result.expiresOnTimestamp })
    return result.token
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300)
}
