/**
 * @module Opening the store: embedded PGlite in a data folder by default (zero set-up), server PostgreSQL when a URL
 * is given. Both are driven through node-postgres and Kysely's PostgresDialect, so one query layer, one type
 * parser and one set of migrations serve both.
 */
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import type { Pool } from 'pg'
import { ConfigError, OffboardError } from '../lib/errors.js'
import { type Clock, systemClock } from './clock.js'
import { COPY_FILE, copyFileError, type MemoryFiles } from './copy-file.js'
import { acquireDataDirLock, type DataDirLock, isProcessAlive } from './lock.js'
import { ensureSchema, migrate } from './migrations.js'
import { openPGliteThread, type PGliteSession } from './pglite-thread.js'
import type { Database } from './schema.js'

export const ENV_DATA_DIR = 'OFFBOARD_DATA_DIR'
export const ENV_DATABASE_URL = 'DATABASE_URL'
export const DEFAULT_DATA_DIR = '.offboard'
/** PGlite's own files live in a subfolder, so the lock file and anything else of ours stay beside them. */
export const PGLITE_SUBDIR = 'pgdata'
/**
 * PGlite's buffer cache. Its default, 128MB, made each opening cost 0.5 s of CPU, and a recorded run opens the store
 * twice; at 64MB an opening costs 0.3 s, while recording a 100k-device run (a 75 MB table) takes no longer.
 * A start parameter, not postgresql.conf: nothing is written into the data folder.
 */
const PGLITE_SHARED_BUFFERS = '64MB'
/** A CLI command that meets `offboard serve` mid-tick waits this long for the folder rather than failing. */
export const DEFAULT_LOCK_WAIT_MS = 3_000

export { type Clock, systemClock } from './clock.js'

/** Who this process is, for recording runs and telling dead ones from live ones. */
export interface Runtime {
  pid: number
  host: string
  isAlive(pid: number): boolean
}

export interface Store {
  readonly db: Kysely<Database>
  readonly kind: 'pglite' | 'postgres'
  /** The data folder, or the database URL without its password. */
  readonly location: string
  readonly clock: Clock
  readonly runtime: Runtime
  /**
   * PGlite only: `COPY table (columns) FROM` the given bytes (COPY's text format, UTF-8) on PGlite's one session, so
   * inside the transaction open on it, if any. Use `insertRows` (bulk-insert.ts), which encodes the rows.
   * With `freeze`, rows are written frozen (COPY's FREEZE): only allowed when the table was created or truncated
   * in the transaction open on the session. With `skipForeignKeyChecks`, this one statement runs without triggers,
   * foreign keys' included (`session_replication_role = replica`, set back at once): only for rows whose references
   * the caller has checked itself. The bytes are not copied (PGlite's thread reads them where they are, when they are
   * on a SharedArrayBuffer): the caller must not change them before the promise settles.
   * @returns the number of rows COPY stored.
   */
  readonly copyIn?: (
    table: string,
    columns: readonly string[],
    data: Uint8Array,
    opts?: { freeze?: boolean; skipForeignKeyChecks?: boolean },
  ) => Promise<number>
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /** PostgreSQL connection URL; default `DATABASE_URL`. When absent, PGlite is used. */
  url?: string
  /** PGlite data folder; default `OFFBOARD_DATA_DIR`, then `./.offboard`. Created on first use. */
  dataDir?: string
  /** PostgreSQL only: keep the tables in this schema (created if missing) instead of the user's default. */
  schema?: string
  clock?: Clock
  env?: NodeJS.ProcessEnv
  lockWaitMs?: number
  runtime?: Partial<Runtime>
}

/**
 * Opens (and on first use creates) the store and brings its schema up to date.
 * @throws StoreLockedError when another process holds the PGlite data folder.
 * @throws ConfigError when PostgreSQL cannot be reached or the folder cannot be created.
 */
export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const env = opts.env ?? process.env
  const url = opts.url ?? (env[ENV_DATABASE_URL] || undefined)
  if (url) return openPostgres(url, opts)
  return openPGlite(resolve(opts.dataDir ?? (env[ENV_DATA_DIR] || DEFAULT_DATA_DIR)), opts)
}

async function openPGlite(dataDir: string, opts: OpenStoreOptions): Promise<Store> {
  try {
    mkdirSync(dataDir, { recursive: true })
  } catch (err) {
    throw new ConfigError(
      `cannot create the data folder ${dataDir}: ${(err as Error).message}`,
      `Set ${ENV_DATA_DIR} to a writable folder, or use PostgreSQL with ${ENV_DATABASE_URL}.`,
    )
  }
  const lock = await acquireDataDirLock(dataDir, {
    waitMs: opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    ...(opts.runtime?.isAlive ? { isAlive: opts.runtime.isAlive } : {}),
  })
  let pglite: PGliteSession | undefined
  try {
    pglite = await openPGliteThread(join(dataDir, PGLITE_SUBDIR), [
      '-c',
      `shared_buffers=${PGLITE_SHARED_BUFFERS}`,
      '-c',
      'wal_level=minimal',
      '-c',
      'max_wal_senders=0',
    ])
    return await storeOnPGlite(pglite, { ...opts, location: dataDir, lock })
  } catch (err) {
    await pglite?.close().catch(() => {})
    lock.release()
    if (err instanceof OffboardError) throw err
    throw new OffboardError(
      `cannot open the store in ${dataDir}: ${(err as Error).message}`,
      'If another program uses this folder, stop it; otherwise restore the folder from a backup or move it aside.',
    )
  }
}

export interface PGliteStoreOptions {
  clock?: Clock
  runtime?: Partial<Runtime>
  location?: string
  lock?: DataDirLock
  /** Close the PGlite instance with the store (default true). */
  ownsPGlite?: boolean
}

/**
 * A store over an existing PGlite instance (on a data folder, in memory, or a `clone()`), migrated before use.
 * PGlite is driven through its node-postgres adapter (`@electric-sql/pglite/node-postgres`): a `pg.Pool` whose one
 * connection speaks the wire protocol to PGlite (on its own thread when opened by {@link openStore}, see
 * pglite-thread.ts; in-process when given an instance), under Kysely's stock PostgresDialect. PGlite has one
 * connection, so the pool holds one client and transactions serialise.
 */
export async function storeOnPGlite(
  instance: PGlite | PGliteSession,
  opts: PGliteStoreOptions = {},
): Promise<Store> {
  const pglite = 'execCopy' in instance ? instance : inProcess(instance)
  const [{ createPgConfig }, pg] = await Promise.all([
    import('@electric-sql/pglite/node-postgres'),
    import('pg'),
  ])
  // idleTimeoutMillis 0: the pool must never drop its single client, whose connection object is PGlite's one session.
  // The adapter's connection uses only `waitReady` and `execProtocolStream` of what it is given, which a session has.
  const pool = new pg.default.Pool({
    ...createPgConfig(pglite as unknown as PGlite),
    max: 1,
    idleTimeoutMillis: 0,
  })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  try {
    await migrate(db)
  } catch (err) {
    await db.destroy().catch(() => {})
    throw err
  }
  return {
    db,
    kind: 'pglite',
    location: opts.location ?? pglite.dataDir ?? 'memory://',
    clock: opts.clock ?? systemClock,
    runtime: runtimeOf(opts.runtime),
    async copyIn(table, columns, data, copyOpts = {}) {
      // Straight to PGlite rather than through the pool: node-postgres cannot send COPY data. The pool's one
      // connection is this same session, so a transaction Kysely holds open there holds the COPY too (and Kysely's
      // client is busy awaiting us, so nothing else is sent in between).
      const list = columns.map(quoteIdent).join(', ')
      const freeze = copyOpts.freeze ? ' with (freeze)' : ''
      const copy = `copy ${quoteIdent(table)} (${list}) from '${COPY_FILE}'${freeze}`
      // SET LOCAL ends with the transaction even if the COPY fails, and is set back right after it otherwise, so
      // that no later statement of the transaction (an audit entry, say) runs without its triggers.
      const counts = await pglite.execCopy(
        copyOpts.skipForeignKeyChecks
          ? `set local session_replication_role = replica; ${copy}; set local session_replication_role = origin`
          : copy,
        data,
        table,
      )
      return counts[copyOpts.skipForeignKeyChecks ? 1 : 0] ?? 0
    },
    async close() {
      await db.destroy()
      if (opts.ownsPGlite !== false) await pglite.close()
      opts.lock?.release()
    },
  }
}

async function openPostgres(url: string, opts: OpenStoreOptions): Promise<Store> {
  const location = redactUrl(url)
  const pg = await import('pg')
  const pool = new pg.default.Pool({
    connectionString: url,
    application_name: 'offboard',
    max: 10,
    ...(opts.schema ? { options: `-c search_path=${checkSchemaName(opts.schema)}` } : {}),
  })
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', () => {})
  const store = storeOnPool(pool, { ...opts, location })
  try {
    if (opts.schema) await ensureSchema(store.db, opts.schema)
    await migrate(store.db)
    return store
  } catch (err) {
    await store.close().catch(() => {})
    // Already says what is wrong with the store itself (a newer schema): not a connection problem.
    if (err instanceof OffboardError) throw err
    throw new ConfigError(
      `cannot open the store at ${location}: ${(err as Error).message}`,
      `Check ${ENV_DATABASE_URL} (postgres://user:password@host:5432/database) and that the server accepts connections.`,
    )
  }
}

/** A store over an existing node-postgres pool (schema not migrated: {@link openStore} does that). */
export function storeOnPool(
  pool: Pool,
  opts: { clock?: Clock; runtime?: Partial<Runtime>; location?: string },
): Store {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    kind: 'postgres',
    location: opts.location ?? 'postgres',
    clock: opts.clock ?? systemClock,
    runtime: runtimeOf(opts.runtime),
    close: () => db.destroy(),
  }
}

function runtimeOf(partial: Partial<Runtime> | undefined): Runtime {
  return {
    pid: partial?.pid ?? process.pid,
    host: partial?.host ?? hostname(),
    isAlive: partial?.isAlive ?? isProcessAlive,
  }
}

/** A PGlite instance of this thread as a session (tests' in-memory instances and their clones). */
function inProcess(pglite: PGlite): PGliteSession {
  return {
    waitReady: pglite.waitReady,
    dataDir: pglite.dataDir,
    execProtocolStream: (message, opts) => pglite.execProtocolStream(message, opts),
    async execCopy(sql, data, table) {
      const removeFile = writeCopyFile(pglite, table, data)
      try {
        return (await pglite.exec(sql)).map((r) => r.affectedRows)
      } finally {
        removeFile()
      }
    },
    close: () => pglite.close(),
  }
}

/**
 * Puts `data` in {@link COPY_FILE} of this in-process PGlite as it is, not a copy (`canOwn`: it is removed before the
 * caller reuses the bytes).
 * @returns the function that removes the file.
 * @throws OffboardError when this PGlite has no in-memory file system or the write fails; nothing was stored.
 */
function writeCopyFile(pglite: PGlite, table: string, data: Uint8Array): () => void {
  const fs = (pglite.Module as { FS?: Partial<MemoryFiles> } | undefined)?.FS
  try {
    if (typeof fs?.writeFile !== 'function' || typeof fs.unlink !== 'function')
      throw new Error('this PGlite version has no in-memory file system')
    const files = fs as MemoryFiles
    files.writeFile(COPY_FILE, data, { canOwn: true })
    return () => files.unlink(COPY_FILE)
  } catch (err) {
    throw copyFileError(table, (err as Error).message)
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new ConfigError(`"${schema}" is not a usable schema name: use lower-case letters, digits and _.`)
  return schema
}

/** The URL for messages: never the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'the configured database URL'
  }
}

/**
 * The same store without ownership: closing it does nothing. For handing an open store to code that closes what it
 * is given (an opener passed to `withRecordedRun` or `startServe`).
 */
export function borrowStore(store: Store): Store {
  return { ...store, close: async () => {} }
}
