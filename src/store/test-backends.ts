/**
 * @module The backends the store test suite runs on: PGlite always, and PostgreSQL when OFFBOARD_TEST_DATABASE_URL is
 * set. Each test gets a fresh, migrated schema of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto'
import type { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import { migrate } from './migrations.js'
import { type OpenStoreOptions, openStore, type Store, storeOnPGlite, systemClock } from './store.js'

export const ENV_TEST_DATABASE_URL = 'OFFBOARD_TEST_DATABASE_URL'

export type TestStoreOptions = Pick<OpenStoreOptions, 'clock' | 'runtime'>

export interface TestBackend {
  readonly name: 'pglite' | 'postgres'
  /** Once per file (beforeAll): PGlite's first creation takes seconds, a clone half a second. */
  setup(): Promise<void>
  /** A fresh, migrated, empty store; closed by {@link TestBackend.cleanup}. */
  create(opts?: TestStoreOptions): Promise<Store>
  /**
   * A second handle on the same database, as another process would have: its own runtime (pid) and clock.
   * On PostgreSQL it has its own connection pool; PGlite allows one process, so it shares the connection.
   */
  attach(store: Store, opts?: TestStoreOptions): Promise<Store>
  /** After each test: closes every store this backend handed out. */
  cleanup(): Promise<void>
  teardown(): Promise<void>
}

export function testBackends(env: NodeJS.ProcessEnv = process.env): TestBackend[] {
  const url = env[ENV_TEST_DATABASE_URL]
  return url ? [pgliteBackend(), postgresBackend(url)] : [pgliteBackend()]
}

/**
 * PGlite: one in-memory instance per test file, and a fresh schema per test on it (`set search_path`). Measured on
 * this project's 2-core machines: `clone()` of a migrated template takes 1.0–1.2 s, a new schema plus migrations
 * 40–60 ms, so schemas keep the suite fast. PGlite has one session, so every store of the file shares its one
 * connection; tests within a file run one after another.
 */
function pgliteBackend(): TestBackend {
  let pglite: PGlite | undefined
  let base: Store | undefined
  const schemas: string[] = []
  return {
    name: 'pglite',
    async setup() {
      const { PGlite } = await import('@electric-sql/pglite')
      pglite = await PGlite.create()
      base = await storeOnPGlite(pglite, { ownsPGlite: false })
    },
    async create(opts = {}) {
      if (!base) throw new Error('call setup() first')
      const schema = newSchemaName()
      await sql.raw(`create schema ${schema}; set search_path to ${schema}`).execute(base.db)
      await migrate(base.db)
      schemas.push(schema)
      return {
        ...base,
        clock: opts.clock ?? systemClock,
        runtime: { ...base.runtime, ...opts.runtime },
        close: async () => {},
      }
    },
    async attach(store, opts = {}) {
      return {
        ...store,
        clock: opts.clock ?? store.clock,
        runtime: { ...store.runtime, ...opts.runtime },
        close: async () => {},
      }
    },
    async cleanup() {
      if (!base) return
      for (const schema of schemas.splice(0)) {
        await sql.raw(`set search_path to public; drop schema ${schema} cascade`).execute(base.db)
      }
    },
    async teardown() {
      await base?.close()
      await pglite?.close()
    },
  }
}

function newSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`
}

function postgresBackend(url: string): TestBackend {
  const open: Store[] = []
  const schemas = new Map<Store, string>()
  return {
    name: 'postgres',
    async setup() {},
    async create(opts = {}) {
      const schema = newSchemaName()
      const store = await openStore({ url, schema, ...opts })
      schemas.set(store, schema)
      open.push(store)
      return store
    },
    async attach(store, opts = {}) {
      const schema = schemas.get(store)
      if (!schema) throw new Error('attach() takes a store made by create()')
      const other = await openStore({
        url,
        schema,
        clock: opts.clock ?? store.clock,
        runtime: { ...store.runtime, ...opts.runtime },
      })
      open.unshift(other)
      return other
    },
    async cleanup() {
      // Attached handles first (unshift), then the owners, which drop their schema before closing.
      for (const store of open.splice(0)) {
        const schema = schemas.get(store)
        if (schema) await store.db.schema.dropSchema(schema).ifExists().cascade().execute()
        await store.close()
      }
      schemas.clear()
    },
    async teardown() {},
  }
}
