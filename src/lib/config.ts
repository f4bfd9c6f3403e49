/**
 * @module Tenant configuration: environment variables over an optional config file (`offboard.config.json`, or
 * `--config FILE`). Secrets come only from the environment, so a config file can be shared without leaking them.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { z } from 'zod'
import { describeJsonError } from '../snapshot/read-collection.js'
import { ConfigError, InputError } from './errors.js'

export const AUTH_METHODS = ['secret', 'certificate', 'managedIdentity', 'deviceCode', 'browser'] as const
export type AuthMethod = (typeof AUTH_METHODS)[number]

/** Sign-ins as a user (delegated): Graph then allows what the user's directory roles allow, not the app's permissions. */
export const isDelegated = (auth: AuthMethod): boolean => auth === 'deviceCode' || auth === 'browser'

export const DEFAULT_ENDPOINTS = {
  graph: 'https://graph.microsoft.com/v1.0',
  defender: 'https://api.security.microsoft.com',
  authorityHost: 'https://login.microsoftonline.com',
} as const

const Guidish = z.string().trim().min(1)

/** The config file: everything but secrets. */
export const ConfigFile = z
  .object({
    tenantId: Guidish.optional(),
    clientId: Guidish.optional(),
    auth: z.enum(AUTH_METHODS).optional(),
    /** PEM file holding the certificate and its private key, for `certificate`. */
    certificatePath: z.string().optional(),
    endpoints: z
      .object({ graph: z.url().optional(), defender: z.url().optional(), authorityHost: z.url().optional() })
      .strict()
      .optional(),
    /** Sources not to read (e.g. a tenant without Defender for Endpoint). */
    disabledSources: z.array(z.enum(['intune', 'entra', 'autopilot', 'defender'])).optional(),
  })
  .strict()
export type ConfigFile = z.infer<typeof ConfigFile>

export interface TenantConfig {
  tenantId: string
  clientId: string | null
  auth: AuthMethod
  clientSecret: string | null
  certificatePath: string | null
  endpoints: { graph: string; defender: string; authorityHost: string }
  disabledSources: string[]
  /** Where each setting came from, for `doctor`. */
  origin: string
}

export const ENV = {
  tenantId: 'OFFBOARD_TENANT_ID',
  clientId: 'OFFBOARD_CLIENT_ID',
  clientSecret: 'OFFBOARD_CLIENT_SECRET',
  certificatePath: 'OFFBOARD_CERTIFICATE_PATH',
  auth: 'OFFBOARD_AUTH',
  graph: 'OFFBOARD_GRAPH_URL',
  defender: 'OFFBOARD_DEFENDER_URL',
  authorityHost: 'OFFBOARD_AUTHORITY_HOST',
  config: 'OFFBOARD_CONFIG',
} as const

/**
 * Loads the tenant configuration, or null when none is configured at all.
 * @throws ConfigError / InputError when a configuration exists but is incomplete or malformed.
 */
export async function loadTenantConfig(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TenantConfig | null> {
  const path =
    explicitPath ??
    env[ENV.config] ??
    (existsSync('offboard.config.json') ? 'offboard.config.json' : undefined)
  let file: ConfigFile = {}
  if (path) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      throw new ConfigError(`cannot read the config file ${path}: ${(err as Error).message}`)
    }
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (err) {
      throw new InputError(path, [{ problem: describeJsonError(err, text) }])
    }
    const parsed = ConfigFile.safeParse(doc)
    if (!parsed.success) {
      if (doc && typeof doc === 'object' && ('clientSecret' in doc || 'secret' in doc)) {
        throw new ConfigError(
          `${path} holds a client secret; secrets belong in the environment (${ENV.clientSecret}), not in files.`,
        )
      }
      throw new InputError(
        path,
        parsed.error.issues
          .slice(0, 5)
          .map((i) => ({ field: i.path.join('.') || undefined, problem: i.message })),
        'See "Live tenant" in the README for the config file fields.',
      )
    }
    file = parsed.data
  }
  const tenantId = env[ENV.tenantId] ?? file.tenantId
  if (!tenantId) {
    if (path || env[ENV.clientId])
      throw new ConfigError(
        `no tenant id: set ${ENV.tenantId} or "tenantId" in ${path ?? 'offboard.config.json'}.`,
      )
    return null
  }
  const auth = (env[ENV.auth] ??
    file.auth ??
    (env[ENV.clientSecret]
      ? 'secret'
      : env[ENV.certificatePath] || file.certificatePath
        ? 'certificate'
        : 'deviceCode')) as AuthMethod
  if (!AUTH_METHODS.includes(auth))
    throw new ConfigError(
      `${ENV.auth}="${auth}" is not a sign-in method; use one of ${AUTH_METHODS.join(', ')}.`,
    )
  const clientId = env[ENV.clientId] ?? file.clientId ?? null
  const clientSecret = env[ENV.clientSecret] ?? null
  const certificatePath = env[ENV.certificatePath] ?? file.certificatePath ?? null
  if ((auth === 'secret' || auth === 'certificate') && !clientId)
    throw new ConfigError(`sign-in with a ${auth} needs an application (client) id: set ${ENV.clientId}.`)
  if (auth === 'secret' && !clientSecret)
    throw new ConfigError(`sign-in with a client secret needs ${ENV.clientSecret} in the environment.`)
  if (auth === 'certificate' && !certificatePath)
    throw new ConfigError(
      `sign-in with a certificate needs ${ENV.certificatePath} (a PEM with the certificate and its private key).`,
    )
  const endpoint = (key: 'graph' | 'defender' | 'authorityHost') => {
    const value = env[ENV[key]] ?? file.endpoints?.[key] ?? DEFAULT_ENDPOINTS[key]
    if (!z.url().safeParse(value).success) throw new ConfigError(`${ENV[key]}="${value}" is not a URL.`)
    return value.replace(/\/$/, '')
  }
  return {
    tenantId,
    clientId,
    auth,
    clientSecret,
    certificatePath: certificatePath ? resolve(certificatePath) : null,
    endpoints: {
      graph: endpoint('graph'),
      defender: endpoint('defender'),
      authorityHost: endpoint('authorityHost'),
    },
    disabledSources: file.disabledSources ?? [],
    origin: path ? `${path} and the environment` : 'the environment',
  }
}

/** Scopes per API (reference §4.1: Defender tokens are for api.securitycenter.microsoft.com). */
export const SCOPES = {
  graph: 'https://graph.microsoft.com/.default',
  defender: 'https://api.securitycenter.microsoft.com/.default',
} as const
