/**
 * @module How an entry point (a CLI command, `serve`, later the API) reaches the store, the acting user and the
 * tenant: the same rules for every entry point, so none can skip a step.
 */

import { ENV } from '../lib/config.js'
import { UsageError } from '../lib/errors.js'
import type { OpenStoreOptions, Store } from '../store/store.js'
import { parseInput } from './errors.js'
import { currentActor, TenantId } from './model.js'

/** What the commands need from their surroundings; tests inject a store and capture the output. */
export interface CommandDeps {
  /** Opens the store; the command closes it when done. Default: `openStore` from the environment. */
  openStore?: () => Promise<Store>
  env?: NodeJS.ProcessEnv
  /** Writes command output (stdout by default). */
  write?: (text: string) => Promise<void>
}

export function storeOpener(deps: CommandDeps, opts: OpenStoreOptions = {}): () => Promise<Store> {
  // Loaded on use: the database layer is not needed to print help.
  return (
    deps.openStore ??
    (async () => (await import('../store/store.js')).openStore({ env: deps.env ?? process.env, ...opts }))
  )
}

export function actorOf(deps: CommandDeps): string {
  return currentActor(deps.env ?? process.env)
}

/** Runs `fn` with an open store and closes it, whatever happens. */
export async function withStore<T>(open: () => Promise<Store>, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await open()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/**
 * The tenant a command is about: `--tenant`, else OFFBOARD_TENANT_ID, else the store's only tenant.
 * @throws UsageError when none or several could be meant, listing the known ones.
 */
export async function resolveTenant(
  store: Store,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const given = explicit ?? (env[ENV.tenantId] || undefined)
  if (given !== undefined) return parseInput(TenantId, given, 'tenant id')
  const tenants = await store.db.selectFrom('tenants').select('id').orderBy('id').limit(11).execute()
  if (tenants.length === 1) return tenants[0]!.id
  if (tenants.length === 0)
    throw new UsageError(
      'no tenant is known to the store yet.',
      "Run 'offboard run' for a tenant, or set one up with 'offboard agent create --tenant ID --admin UPN'.",
    )
  const list = tenants.slice(0, 10).map((t) => t.id)
  throw new UsageError(
    `the store holds several tenants (${list.join(', ')}${tenants.length > 10 ? ', …' : ''}); say which with --tenant ID.`,
    `Or set ${ENV.tenantId}.`,
  )
}
