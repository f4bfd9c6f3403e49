/** @module insertRows on every backend: what COPY's text format must escape comes back exactly as given. */
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CopyEncoder, insertRows } from './bulk-insert.js'
import { COPY_FILE } from './copy-file.js'
import type { Store } from './store.js'
import { testBackends } from './test-backends.js'
import { suggestionRow, tenantWithRun } from './test-rows.js'

const T0 = new Date('2026-01-01T00:00:00.123Z')
/** Every character COPY's text format or an array literal treats specially, and some that need UTF-8. */
const AWKWARD =
  'tab\there, new\nline, cr\rreturn, back\\slash \\N, "quotes", {braces}, commas, NULL, émoji 🧹 — ›'

describe.each(testBackends())('insertRows on $name', (backend) => {
  beforeAll(() => backend.setup(), 60_000)
  afterEach(() => backend.cleanup())
  afterAll(() => backend.teardown())

  it('stores text, JSON, arrays, numbers, nulls and instants exactly as given', async () => {
    const store = await backend.create()
    await tenantWithRun(store, T0)
    const document = { text: AWKWARD, nested: { list: [AWKWARD, null, 1.5] } }
    const rows = [0, 1, 2].map((position) => ({
      ...suggestionRow(`s${position}`, position, T0),
      display_name: position === 1 ? null : AWKWARD,
      suggestion: JSON.stringify(document),
      device_keys: position === 2 ? [] : [AWKWARD, 'NULL', '', 'entra:x'],
      task_id: position === 0 ? 7 : null,
    }))
    await store.db.transaction().execute((tx) => insertRows(store, tx, 'suggestions', rows))
    const back = await store.db.selectFrom('suggestions').selectAll().orderBy('position').execute()
    expect(back).toEqual(rows.map((r) => ({ ...r, suggestion: document })))

    // In batches smaller than a row: every row is its own COPY, and none is cut or lost.
    await store.db.deleteFrom('suggestions').execute()
    await store.db
      .transaction()
      .execute((tx) => insertRows(store, tx, 'suggestions', rows, { copyBatchBytes: 64 }))
    expect(await store.db.selectFrom('suggestions').selectAll().orderBy('position').execute()).toEqual(back)
  })

  it('writes rows frozen into a table truncated in the same transaction, and only there', async () => {
    const store = await backend.create()
    await tenantWithRun(store, T0)
    const rows = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => suggestionRow(`s${from + i}`, i, T0))
    const stored = async () =>
      (await store.db.selectFrom('suggestions').select('id').orderBy('id').execute()).map((r) => r.id)
    await store.db.transaction().execute((tx) => insertRows(store, tx, 'suggestions', rows(0, 2)))
    await store.db.transaction().execute(async (tx) => {
      await sql`truncate suggestions`.execute(tx)
      await insertRows(store, tx, 'suggestions', rows(5, 3), { truncated: true, copyBatchBytes: 32 })
    })
    expect(await stored()).toEqual(['s5', 's6', 's7'])
    if (store.kind === 'pglite') {
      // COPY really is FREEZE there: claiming a truncation that did not happen is refused, and nothing is written.
      await expect(
        store.db
          .transaction()
          .execute((tx) => insertRows(store, tx, 'suggestions', rows(9, 1), { truncated: true })),
      ).rejects.toThrow(/cannot perform COPY FREEZE/)
      expect(await stored()).toEqual(['s5', 's6', 's7'])
    }
  })

  it('skips foreign-key checks only when the caller has checked the references, and only for the COPY', async () => {
    const store = await backend.create()
    await tenantWithRun(store, T0)
    const orphan = { ...suggestionRow('s0', 0, T0), run_id: 'no-such-run' }
    // Without the promise, a row pointing nowhere is refused, on every backend.
    await expect(
      store.db.transaction().execute((tx) => insertRows(store, tx, 'suggestions', [orphan])),
    ).rejects.toThrow(/foreign key constraint/)
    const after = await store.db.transaction().execute(async (tx) => {
      await insertRows(store, tx, 'suggestions', [suggestionRow('s1', 1, T0)], { referencesChecked: true })
      // The rest of the transaction runs with every trigger again (the audit log's append-only one, say).
      const role = await sql<{ session_replication_role: string }>`show session_replication_role`.execute(tx)
      return role.rows[0]?.session_replication_role
    })
    expect(after).toBe('origin')
    expect(await store.db.selectFrom('suggestions').select('id').execute()).toEqual([{ id: 's1' }])
    if (store.kind === 'pglite') {
      // It really is skipped there (the caller's promise is what keeps the references right).
      await store.db
        .transaction()
        .execute((tx) => insertRows(store, tx, 'suggestions', [orphan], { referencesChecked: true }))
      expect(await store.db.selectFrom('suggestions').select('id').orderBy('id').execute()).toEqual([
        { id: 's0' },
        { id: 's1' },
      ])
    }
  })

  it('inserts nothing for no rows, and fails the transaction on a bad row', async () => {
    const store = await backend.create()
    await store.db.transaction().execute((tx) => insertRows(store, tx, 'tenants', []))
    const bad = [
      { id: 'a', created_at: T0 },
      { id: 'a', created_at: T0 },
    ]
    await expect(
      store.db.transaction().execute((tx) => insertRows(store, tx, 'tenants', bad)),
    ).rejects.toThrow(/duplicate key value violates unique constraint/)
    expect(await store.db.selectFrom('tenants').selectAll().execute()).toEqual([])
  })
})

describe('CopyEncoder', () => {
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

  it('hands over a view of its one buffer holding just the rows, then reuses it, growing only for a longer line', () => {
    const encoder = new CopyEncoder(64)
    encoder.push(encoder.line({ a: 'x', b: 1 }))
    encoder.push(encoder.line({ a: 'é\t', b: null }))
    const first = encoder.take()
    expect(first.byteOffset).toBe(0)
    expect(text(first)).toBe('x\t1\né\\t\t\\N\n')
    expect(encoder.rows).toBe(0)
    encoder.push(encoder.line({ a: 'y', b: 2 }))
    const second = encoder.take()
    expect(second.buffer).toBe(first.buffer)
    expect(text(second)).toBe('y\t2\n')
    const long = 'z'.repeat(100)
    expect(encoder.fits(encoder.line({ a: long, b: 3 }))).toBe(true)
    encoder.push(encoder.line({ a: long, b: 3 }))
    expect(text(encoder.take())).toBe(`${long}\t3\n`)
  })
})

describe('insertRows on PGlite', () => {
  const backend = testBackends({}).find((b) => b.name === 'pglite')!
  beforeAll(() => backend.setup(), 60_000)
  afterEach(() => backend.cleanup())
  afterAll(() => backend.teardown())

  /** The file COPY reads from, in PGlite's in-memory file system: null when there is none. */
  const copyFile = async (store: Store) =>
    (await sql<{ f: unknown }>`select pg_stat_file(${COPY_FILE}, true) as f`.execute(store.db)).rows[0]!.f

  it('leaves no file behind in PGlite memory, after a COPY or a failed one', async () => {
    const store = await backend.create()
    const rows = [0, 1].map((i) => ({ id: `t${i}`, created_at: T0 }))
    await store.db.transaction().execute((tx) => insertRows(store, tx, 'tenants', rows))
    expect(await store.db.selectFrom('tenants').select('id').orderBy('id').execute()).toEqual([
      { id: 't0' },
      { id: 't1' },
    ])
    expect(await copyFile(store)).toBeNull()
    await expect(
      store.db.transaction().execute((tx) => insertRows(store, tx, 'tenants', rows)),
    ).rejects.toThrow(/duplicate key value violates unique constraint/)
    expect(await copyFile(store)).toBeNull()
  })
})
