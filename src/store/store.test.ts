/** @module Opening the store: the PGlite data folder (creation, persistence, the lock against a second process) and PostgreSQL by URL. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import { createPgConfig } from '@electric-sql/pglite/node-postgres'
import { sql } from 'kysely'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { loadAskData } from '../agent/ask-source.js'
import { completeRun, deviceKeys, startRun } from '../agent/runs.js'
import { listSuggestions } from '../agent/suggestions.js'
import { fakeReport } from '../agent/test-fixtures.js'
import { temporaryDirs } from '../lib/test-dirs.js'
import { acquireDataDirLock, LOCK_FILE, StoreLockedError } from './lock.js'
import { ensureSchema, migrate } from './migrations.js'
import { openStore, redactUrl, type Store, storeOnPGlite, storeOnPool } from './store.js'
import { ENV_TEST_DATABASE_URL } from './test-backends.js'

const root = join(import.meta.dirname, '../..')
const children: ChildProcess[] = []

const tempDir = temporaryDirs('offboard-store-')

afterEach(() => {
  for (const c of children.splice(0)) c.kill()
})

function lockInfo(pid: number) {
  return JSON.stringify({
    pid,
    host: hostname(),
    since: '2026-01-01T00:00:00.000Z',
    command: 'offboard serve',
  })
}

describe('the PGlite data folder', () => {
  it('is created on first use, persists across opens, and refuses a second process naming the holder', async () => {
    const dataDir = join(tempDir(), 'nested', '.offboard')
    const store = await openStore({ dataDir, env: {} })
    try {
      expect(store.kind).toBe('pglite')
      const buffers = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(store.db)
      expect(buffers.rows).toEqual([{ shared_buffers: '64MB' }])
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(true)
      expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid })
      await store.db.insertInto('tenants').values({ id: 'contoso', created_at: new Date() }).execute()

      // The same process cannot open it twice either: two PGlite instances on one folder corrupt it.
      await expect(openStore({ dataDir, env: {}, lockWaitMs: 0 })).rejects.toThrow(/in use by this process/)

      // A real second process: it must fail fast with our pid, without touching the database files.
      const script = join(tempDir(), 'second.ts')
      writeFileSync(
        script,
        `import { openStore } from ${JSON.stringify(join(root, 'src/store/store.ts'))}\n` +
          `openStore({ dataDir: ${JSON.stringify(dataDir)}, env: {}, lockWaitMs: 0 })` +
          `.then(() => { console.log('opened'); process.exit(0) }, (e) => { console.log(e.message); process.exit(3) })\n`,
      )
      const child: { code?: number; stdout: string } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', script],
        { cwd: root },
      ).catch((e: { code: number; stdout: string }) => e)
      expect(child.code).toBe(3)
      expect(child.stdout).toContain(`is in use by process ${process.pid} on ${hostname()}`)
    } finally {
      await store.close()
    }
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false)

    const started = performance.now()
    const again = await openStore({ env: { OFFBOARD_DATA_DIR: dataDir } })
    try {
      expect(performance.now() - started).toBeLessThan(5_000)
      expect(await again.db.selectFrom('tenants').select('id').execute()).toEqual([{ id: 'contoso' }])
      expect(await migrate(again.db)).toEqual([])
    } finally {
      await again.close()
    }
  }, 60_000)
})

describe('the data-folder lock', () => {
  it('names a live holder in its error and how to proceed', async () => {
    const dir = tempDir()
    const sleeper = spawn('sleep', ['30'])
    children.push(sleeper)
    writeFileSync(join(dir, LOCK_FILE), lockInfo(sleeper.pid!))
    const err = await acquireDataDirLock(dir).catch((e) => e)
    expect(err).toBeInstanceOf(StoreLockedError)
    expect(err.message).toBe(
      `the data folder ${dir} is in use by process ${sleeper.pid} on ${hostname()} ("offboard serve", since 2026-01-01T00:00:00.000Z).`,
    )
    expect(err.hint).toContain('DATABASE_URL')
  })

  it('takes over the lock of a process that died', async () => {
    const dir = tempDir()
    const done = spawn(process.execPath, ['-e', ''])
    await new Promise((r) => done.on('exit', r))
    writeFileSync(join(dir, LOCK_FILE), lockInfo(done.pid!))
    const lock = await acquireDataDirLock(dir)
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid)
    lock.release()
    expect(existsSync(lock.path)).toBe(false)
  })

  it('takes over a corrupt lock file', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, LOCK_FILE), '{"pid":')
    const lock = await acquireDataDirLock(dir)
    lock.release()
  })

  it('waits for a holder that lets go within the wait', async () => {
    const dir = tempDir()
    const first = await acquireDataDirLock(dir, { isAlive: () => true })
    // Same pid would be "this process"; pretend the holder is another live process.
    writeFileSync(first.path, lockInfo(process.pid + 100_000))
    setTimeout(() => rmSync(first.path), 150)
    const second = await acquireDataDirLock(dir, { waitMs: 2_000, isAlive: () => true })
    second.release()
  })

  it('lets only one of several racing acquirers win', async () => {
    const dir = tempDir()
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => acquireDataDirLock(dir, { waitMs: 0 })),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  })
})

describe('PostgreSQL by URL', () => {
  it('never shows the password of a database URL', () => {
    expect(redactUrl('postgres://offboard:s3cret@db.example:5432/offboard')).toBe(
      'postgres://offboard:***@db.example:5432/offboard',
    )
    expect(redactUrl('not a url')).toBe('the configured database URL')
  })

  it('says which server could not be reached, without the password', async () => {
    const err = await openStore({ url: 'postgres://u:pw@127.0.0.1:1/x', env: {} }).catch((e) => e)
    expect(err.message).toMatch(/^cannot open the store at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: /)
    expect(err.message).not.toContain('pw@')
  })

  const url = process.env[ENV_TEST_DATABASE_URL]
  it.runIf(url)('is chosen by DATABASE_URL, migrates on open, and migrating again is a no-op', async () => {
    const schema = `t_open_${process.pid}`
    const store = await openStore({ env: { DATABASE_URL: url }, schema })
    try {
      expect(store.kind).toBe('postgres')
      expect(await migrate(store.db)).toEqual([])
      // Two processes opening a fresh database at once: the advisory lock lets one migrate, the other waits.
      const [a, b] = await Promise.all([
        openStore({ url, schema: `${schema}_b` }),
        openStore({ url, schema: `${schema}_b` }),
      ])
      await a.db.schema.dropSchema(`${schema}_b`).cascade().execute()
      await Promise.all([a.close(), b.close()])
    } finally {
      await store.db.schema.dropSchema(schema).cascade().execute()
      await store.close()
    }
  })
})

describe.each([
  { name: 'pglite', url: undefined },
  ...(process.env[ENV_TEST_DATABASE_URL]
    ? [{ name: 'postgres', url: process.env[ENV_TEST_DATABASE_URL] }]
    : []),
])('a store left by version 4, on $name', ({ url }) => {
  const TENANT = '11111111-2222-3333-4444-555555555555'
  const T0 = new Date('2026-01-01T00:00:00.000Z')

  /** A node-postgres pool on a fresh database (PGlite) or schema (PostgreSQL), and how to open the current store on it. */
  async function oldDatabase(): Promise<{ pool: pg.Pool; reopen(): Promise<Store>; drop(): Promise<void> }> {
    if (url) {
      const schema = `t_v4_${process.pid}`
      const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` })
      await ensureSchema(storeOnPool(pool, {}).db, schema)
      return {
        pool,
        reopen: () => openStore({ url, schema, clock: () => T0 }),
        drop: async () => {
          const admin = new pg.Pool({ connectionString: url, max: 1 })
          await admin.query(`drop schema if exists ${schema} cascade`)
          await admin.end()
        },
      }
    }
    const pglite = await PGlite.create()
    return {
      pool: new pg.Pool({ ...createPgConfig(pglite), max: 1, idleTimeoutMillis: 0 }),
      reopen: () => storeOnPGlite(pglite, { clock: () => T0 }),
      drop: async () => {},
    }
  }

  it('migrates to version 5: the suggestions read back the same, and the next run keeps their state', async () => {
    const db = await oldDatabase()
    const old = storeOnPool(db.pool, {})
    let store: Store | undefined
    try {
      expect(await migrate(old.db, 4)).toEqual([1, 2, 3, 4])
      const report = fakeReport(TENANT, [1, { device: 2, platform: 'macOS' }])
      const firstSeen = new Date('2025-12-01T00:00:00.000Z')
      await sql`insert into tenants (id, created_at) values (${TENANT}, ${T0})`.execute(old.db)
      await sql`
        insert into runs (id, tenant_id, trigger, status, actor, started_at, finished_at, pid, host)
        values ('run-v4', ${TENANT}, 'manual', 'completed', 'alice', ${T0}, ${T0}, 1, 'host')`.execute(old.db)
      for (const [position, s] of report.suggestions.entries()) {
        // Version 4's columns, device included, as its completeRun wrote them.
        await sql`
          insert into suggestions (tenant_id, id, run_id, position, category, severity, platform, display_name, device,
            suggestion, device_keys, status, assignee, task_id, first_seen_at)
          values (${TENANT}, ${s.id}, 'run-v4', ${position}, ${s.category}, ${s.severity}, ${s.device.platform},
            ${s.device.displayName}, ${JSON.stringify(s.device)}, ${JSON.stringify(s)}, ${deviceKeys(s.device)},
            ${position === 0 ? 'inProgress' : 'notStarted'}, ${position === 0 ? 'bob' : null}, null, ${firstSeen})`.execute(
          old.db,
        )
      }
      await old.close()

      store = await db.reopen()
      const versions = await store.db.selectFrom('offboard_migrations').select('version').execute()
      expect(versions.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6])
      const stored = await listSuggestions(store, 'alice', TENANT)
      expect(stored.map((s) => s.suggestion)).toEqual(report.suggestions)
      expect(stored.map((s) => [s.status, s.assignee, s.firstSeenAt])).toEqual([
        ['inProgress', 'bob', firstSeen],
        ['notStarted', null, firstSeen],
      ])

      // A run on the migrated store: device 1 stays with its state, device 2 goes, device 3 is new.
      const next = fakeReport(TENANT, [1, 3])
      const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      await completeRun(store, run.id, next, { keepSuggestionState: true })
      const after = await listSuggestions(store, 'alice', TENANT)
      expect(after.map((s) => s.suggestion)).toEqual(next.suggestions)
      expect(after.map((s) => [s.status, s.assignee, s.firstSeenAt, s.runId])).toEqual([
        ['inProgress', 'bob', firstSeen, run.id],
        ['notStarted', null, T0, run.id],
      ])
    } finally {
      await store?.close()
      await db.drop()
    }
  }, 60_000)

  it("migrates to version 6: a run's suggestion list becomes its rows, and the next run is compared with it", async () => {
    const db = await oldDatabase()
    const old = storeOnPool(db.pool, {})
    let store: Store | undefined
    try {
      expect(await migrate(old.db, 5)).toEqual([1, 2, 3, 4, 5])
      const report = fakeReport(TENANT, [1, 2, { device: 3, platform: 'macOS' }])
      await sql`insert into tenants (id, created_at) values (${TENANT}, ${T0})`.execute(old.db)
      // Version 5's list: [id, category, name, key] per suggestion, in the run's row. The first run predates lists.
      const list = report.suggestions.map((s) => [
        s.id,
        s.category,
        s.device.displayName,
        `entra:${s.device.ids.entraObjectId}`,
      ])
      await sql`
        insert into runs (id, tenant_id, trigger, status, actor, started_at, finished_at, pid, host, suggestion_count,
          suggestion_list)
        values ('run-v2', ${TENANT}, 'manual', 'completed', 'alice', ${T0}, ${T0}, 1, 'host', 5, null),
          ('run-v5', ${TENANT}, 'manual', 'completed', 'alice', ${T0}, ${T0}, 1, 'host', 3, ${JSON.stringify(list)})`.execute(
        old.db,
      )
      await old.close()

      store = await db.reopen()
      const rows = await store.db
        .selectFrom('run_suggestions')
        .selectAll()
        .orderBy('run_id')
        .orderBy('position')
        .execute()
      expect(rows).toEqual(
        list.map(([id, category, name, key], position) => ({
          run_id: 'run-v5',
          position,
          id,
          category,
          name,
          device_key: key,
        })),
      )
      // The next run: device 1 stays, 2 and 3 are resolved, 4 is new, compared with the migrated list.
      const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      await completeRun(store, run.id, fakeReport(TENANT, [1, 4]))
      const data = await loadAskData(store, 'alice', TENANT)
      expect(data.previous?.runId).toBe('run-v5')
      expect(data.previous?.suggestions.map((s) => s.id)).toEqual(report.suggestions.map((s) => s.id))
      // Only the latest two completed runs keep their list; the migrated one is the older of them.
      const kept = await store.db
        .selectFrom('run_suggestions')
        .select('run_id')
        .distinct()
        .orderBy('run_id')
        .execute()
      expect(kept.map((r) => r.run_id).sort()).toEqual([run.id, 'run-v5'].sort())
    } finally {
      await store?.close()
      await db.drop()
    }
  }, 60_000)
})
