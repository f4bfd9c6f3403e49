/** @module The store on PGlite's own thread: node-postgres, COPY and errors behave as with PGlite in-process. */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { isUniqueViolation } from '../agent/agents.js'
import { temporaryDirs } from '../lib/test-dirs.js'
import { insertRows } from './bulk-insert.js'
import { COPY_FILE } from './copy-file.js'
import { openStore } from './store.js'
import { suggestionRow, tenantWithRun } from './test-rows.js'

const dataDir = temporaryDirs('offboard-thread-')

const T0 = new Date('2026-01-01T00:00:00.000Z')

describe('the store on PGlite thread', () => {
  it('answers queries, keeps a constraint violation its SQLSTATE, and rolls a failed transaction back', async () => {
    const store = await openStore({ dataDir: dataDir(), env: {} })
    try {
      await store.db.insertInto('tenants').values({ id: 'contoso', created_at: T0 }).execute()
      const failed = await store.db
        .transaction()
        .execute(async (tx) => {
          await tx.insertInto('tenants').values({ id: 'fabrikam', created_at: T0 }).execute()
          await tx.insertInto('tenants').values({ id: 'contoso', created_at: T0 }).execute()
        })
        .catch((e: unknown) => e)
      expect(failed).toMatchObject({ code: '23505' })
      expect(isUniqueViolation(failed, 'tenants_pkey')).toBe(true)
      const ids = await store.db.selectFrom('tenants').select('id').orderBy('id').execute()
      expect(ids).toEqual([{ id: 'contoso' }])
      // A parameterised statement, through the extended protocol: the text arrives as data.
      const echoed = await sql<{ v: string }>`select ${"'; drop table tenants; --"}::text as v`.execute(
        store.db,
      )
      expect(echoed.rows).toEqual([{ v: "'; drop table tenants; --" }])
    } finally {
      await store.close()
    }
  }, 60_000)

  it('stores every row of a COPY sent in many batches, in order, while the next batch is encoded', async () => {
    const dir = dataDir()
    const store = await openStore({ dataDir: dir, env: {} })
    const count = 500
    try {
      await tenantWithRun(store, T0)
      const rows = Array.from({ length: count }, (_, i) => ({
        ...suggestionRow(`s${i}`, i, T0),
        display_name: `PC-${i}\twith a tab`,
        suggestion: JSON.stringify({ i, name: `PC-${i}` }),
        device_keys: [`entra:${i}`],
      }))
      // 2 KiB batches: about forty COPY statements, each sent while the rows of the next are encoded.
      await store.db
        .transaction()
        .execute((tx) => insertRows(store, tx, 'suggestions', rows, { copyBatchBytes: 2_048 }))
    } finally {
      await store.close()
    }
    // Opened again on the same folder: the rows were written, not only seen by the session that wrote them.
    const again = await openStore({ dataDir: dir, env: {} })
    try {
      const stored = await again.db
        .selectFrom('suggestions')
        .select(['id', 'position', 'display_name'])
        .orderBy('position')
        .execute()
      expect(stored).toHaveLength(count)
      expect(stored.map((r) => r.id)).toEqual(Array.from({ length: count }, (_, i) => `s${i}`))
      expect(stored[7]?.display_name).toBe('PC-7\twith a tab')
    } finally {
      await again.close()
    }
  }, 60_000)

  it('fails a COPY whose row breaks a constraint, stores none of its rows, and leaves no file behind', async () => {
    const store = await openStore({ dataDir: dataDir(), env: {} })
    try {
      await store.db.insertInto('tenants').values({ id: 't', created_at: T0 }).execute()
      const rows = [0, 1, 1].map((i) => ({ id: `dup-${i}`, created_at: T0 }))
      const failed = await store.db
        .transaction()
        .execute((tx) => insertRows(store, tx, 'tenants', rows, { copyBatchBytes: 32 }))
        .catch((e: unknown) => e)
      expect(failed).toMatchObject({ code: '23505' })
      expect(await store.db.selectFrom('tenants').select('id').execute()).toEqual([{ id: 't' }])
      // The file COPY read from, in the thread's PGlite memory, is gone after the failure too.
      const file = await sql<{ f: unknown }>`select pg_stat_file(${COPY_FILE}, true) as f`.execute(store.db)
      expect(file.rows).toEqual([{ f: null }])
    } finally {
      await store.close()
    }
  }, 60_000)
})
