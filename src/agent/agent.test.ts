/** @module The store and agent suite, run on every backend: PGlite always, PostgreSQL when OFFBOARD_TEST_DATABASE_URL is set. */
import { spawnSync } from 'node:child_process'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DAY_MS } from '../domain/time.js'
import { migrate } from '../store/migrations.js'
import type { Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import { createAgent, removeAgent, renewAgent, setInstructions, showAgent } from './agents.js'
import { readAudit, recordDeviceAction, verifyAudit } from './audit.js'
import { AgentExpiredError, ConflictError, PermissionDenied, RunInProgressError } from './errors.js'
import { addUser, authorize, listUsers, removeUser, setUserRole } from './roles.js'
import { completeRun, failRun, listRuns, startRun, withRecordedRun, withRecordedRunReading } from './runs.js'
import { getSuggestion, listSuggestions } from './suggestions.js'
import { addTask, assignTask, commentTask, completeTask, getTask, listTasks, setTaskStatus } from './tasks.js'
import { entraId, fakeReport } from './test-fixtures.js'

const T0 = new Date('2026-01-01T00:00:00.000Z')
const TENANT = '11111111-2222-3333-4444-555555555555'
const ADMIN = 'alice@contoso.com'

/** A pid that certainly belonged to a process and certainly does not any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  return child.pid!
}

async function ids(store: Store, actor = ADMIN): Promise<string[]> {
  return (await listSuggestions(store, actor, TENANT)).map((s) => s.id)
}

/** Completes one run of `TENANT` with suggestions for the given devices. */
async function runWith(store: Store, devices: Parameters<typeof fakeReport>[1], actor = ADMIN) {
  const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor })
  return completeRun(store, run.id, fakeReport(TENANT, devices))
}

describe.each(testBackends())('store and agent on $name', (backend) => {
  let now = T0
  const clock = () => now
  const fresh = () => backend.create({ clock })

  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    now = T0
    await backend.cleanup()
  })
  afterAll(() => backend.teardown())

  describe('migrations', () => {
    it('are recorded and idempotent: migrating again changes nothing', async () => {
      const store = await fresh()
      expect(await migrate(store.db)).toEqual([])
      const rows = await store.db.selectFrom('offboard_migrations').select(['version', 'name']).execute()
      expect(rows).toEqual([
        { version: 1, name: 'initial schema' },
        { version: 2, name: 'acts and their write-ahead steps' },
        {
          version: 3,
          name: "runs keep a compact list of their suggestions, for 'what changed since the last run'",
        },
        { version: 4, name: 'suggestion documents stored uncompressed' },
        {
          version: 5,
          name: 'suggestions kept as JSON text, without the unread device column, inline when they fit a page',
        },
        { version: 6, name: "a run's suggestion list kept as rows, written with its suggestions" },
      ])
      // The storage changes took: attstorage 'e' is EXTERNAL (not compressed), and the device column is gone.
      const storage = await sql<{ attname: string; type: string; attstorage: string }>`
        select attname, format_type(atttypid, atttypmod) as type, attstorage from pg_attribute
        where attrelid in ('suggestions'::regclass, 'runs'::regclass) and not attisdropped
          and attname in ('device', 'suggestion', 'suggestion_list') order by attname`.execute(store.db)
      expect(storage.rows).toEqual([{ attname: 'suggestion', type: 'json', attstorage: 'e' }])
      const options = await sql<{ reloptions: string[] }>`
        select reloptions from pg_class where oid = 'suggestions'::regclass`.execute(store.db)
      expect(options.rows[0]?.reloptions).toEqual(['toast_tuple_target=8160'])
      // count(*) is a bigint: a string from node-postgres on both backends.
      const count = await sql<{ n: unknown }>`select count(*) as n from runs`.execute(store.db)
      expect(count.rows[0]?.n).toBe('0')
    })
  })

  it('refuses a store whose schema a newer offboard wrote, and changes nothing in it', async () => {
    const store = await fresh()
    await store.db
      .insertInto('offboard_migrations')
      .values({ version: 99, name: 'from the future', applied_at: new Date(T0) })
      .execute()
    await expect(migrate(store.db)).rejects.toThrow(
      /schema is at version 99, written by a newer offboard; this one knows versions up to \d+/,
    )
    const rows = await store.db.selectFrom('offboard_migrations').select('version').execute()
    expect(rows.map((r) => r.version)).toContain(99)
    await expect(migrate(store.db)).rejects.toThrow(/newer offboard/)
  })

  describe('runs', () => {
    it('allows one run at a time per tenant: of two concurrent starts exactly one wins, the other names it', async () => {
      const a = await fresh()
      // On PostgreSQL a second handle has its own connections, so the two starts really race.
      const b = await backend.attach(a)
      const results = await Promise.allSettled([
        startRun(a, { tenantId: TENANT, trigger: 'manual', actor: 'alice' }),
        startRun(b, { tenantId: TENANT, trigger: 'schedule', actor: 'offboard-scheduler' }),
      ])
      const won = results.filter((r) => r.status === 'fulfilled')
      const lost = results.filter((r) => r.status === 'rejected')
      expect(won).toHaveLength(1)
      expect(lost).toHaveLength(1)
      const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof startRun>>>).value
      const error = (lost[0] as PromiseRejectedResult).reason
      expect(error).toBeInstanceOf(RunInProgressError)
      expect((error as Error).message).toContain(`run ${winner.id}`)
      expect((error as Error).message).toMatch(/a run is already in progress for tenant/)
      const audit = await readAudit(a.db)
      expect(
        audit
          .filter((e) => e.action === 'run.start')
          .map((e) => e.result)
          .sort(),
      ).toEqual(['ok', 'refused'])
      // Other tenants are not blocked.
      await expect(
        startRun(a, { tenantId: 'other-tenant', trigger: 'manual', actor: 'alice' }),
      ).resolves.toMatchObject({ status: 'running' })
    })

    it('keeps the previous suggestions when a run is killed mid-way; the next start marks it failed', async () => {
      const store = await fresh()
      await runWith(store, [1, 2])
      // "Process A" starts a run and dies before completing it: its pid no longer exists.
      const pid = deadPid()
      const processA = await backend.attach(store, { runtime: { pid } })
      const killed = await startRun(processA, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      expect(await ids(store)).toEqual(['sg-0000000000000001', 'sg-0000000000000002'])

      // "Process B" starts later: the dead run is marked failed, the new one starts.
      now = new Date(T0.getTime() + 60_000)
      const next = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      const runs = await listRuns(store, 'alice', TENANT)
      const dead = runs.find((r) => r.id === killed.id)!
      expect(dead.status).toBe('failed')
      expect(dead.error).toContain(`pid ${pid}`)
      expect(await ids(store)).toEqual(['sg-0000000000000001', 'sg-0000000000000002'])

      // The killed run can never deliver half a result set afterwards.
      await expect(completeRun(processA, killed.id, fakeReport(TENANT, [9]))).rejects.toBeInstanceOf(
        ConflictError,
      )
      expect(await ids(store)).toEqual(['sg-0000000000000001', 'sg-0000000000000002'])
      await completeRun(store, next.id, fakeReport(TENANT, [3]))
      expect(await ids(store)).toEqual(['sg-0000000000000003'])
    })

    it('marks a run that has been running too long failed even when its pid is alive', async () => {
      const store = await fresh()
      const old = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      now = new Date(T0.getTime() + 13 * 3_600_000)
      const other = await backend.attach(store, { runtime: { pid: process.pid + 1, isAlive: () => true } })
      await startRun(other, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      expect((await listRuns(store, 'alice', TENANT)).find((r) => r.id === old.id)?.error).toMatch(/12 hours/)
    })

    it('withRecordedRun: a failing run is recorded as failed, rethrows, and leaves the suggestions alone', async () => {
      const store = await fresh()
      await withRecordedRun({ store, tenantId: TENANT, trigger: 'manual', actor: 'alice' }, async () =>
        fakeReport(TENANT, [1]),
      )
      await expect(
        withRecordedRun({ store, tenantId: TENANT, trigger: 'manual', actor: 'alice' }, async () => {
          throw new Error('Graph returned 503')
        }),
      ).rejects.toThrow('Graph returned 503')
      const [last] = await listRuns(store, 'alice', TENANT)
      expect(last).toMatchObject({ status: 'failed', error: 'Graph returned 503' })
      expect(await ids(store)).toEqual(['sg-0000000000000001'])
      const actions = (await readAudit(store.db)).map((e) => `${e.action}:${e.result}`)
      expect(actions).toEqual(['run.start:ok', 'run.finish:ok', 'run.start:ok', 'run.fail:failed'])
    })

    it('withRecordedRun opens the store only to start and to complete, and passes the instructions', async () => {
      const store = await fresh()
      await createAgent(store, 'alice', {
        tenantId: TENANT,
        adminUpn: ADMIN,
        instructions: 'Never touch kiosks.',
      })
      let opened = 0
      const open = async () => {
        opened++
        return { ...store, close: async () => {} }
      }
      const report = await withRecordedRun(
        { store: open, tenantId: TENANT, trigger: 'manual', actor: 'alice' },
        async (ctx) => {
          expect(ctx.instructions).toBe('Never touch kiosks.')
          expect(ctx.agent).toEqual({ adminUpn: ADMIN, authMethod: 'deviceCode', clientId: null })
          expect(opened).toBe(1)
          return fakeReport(TENANT, [1, 2])
        },
      )
      expect(report.suggestions).toHaveLength(2)
      expect(opened).toBe(2)
      const [run] = await listRuns(store, 'alice', TENANT)
      expect(run).toMatchObject({ status: 'completed', instructions: 'Never touch kiosks.' })
      expect(run?.counts).toEqual({ devices: 2, suggestions: 2, skipped: 0, undetermined: 0 })
    })

    it('withRecordedRunReading reads while the run starts, then produces from what was read', async () => {
      const store = await fresh()
      let letOpen!: () => void
      const opening = new Promise<void>((resolve) => {
        letOpen = resolve
      })
      const open = async () => {
        await opening
        return { ...store, close: async () => {} }
      }
      let readWhileOpening = false
      const report = await withRecordedRunReading(
        { store: open, tenantId: TENANT, trigger: 'manual', actor: 'alice' },
        async (signal) => {
          // The store is not open yet: reading has begun without it.
          readWhileOpening = (await listRuns(store, 'alice', TENANT)).length === 0 && !signal.aborted
          letOpen()
          return [1, 2, 3]
        },
        async (ctx, read) => {
          expect(ctx.run.status).toBe('running')
          return fakeReport(TENANT, read)
        },
      )
      expect(readWhileOpening).toBe(true)
      expect(report.suggestions).toHaveLength(3)
      expect((await listRuns(store, 'alice', TENANT))[0]).toMatchObject({ status: 'completed' })
    })

    it('withRecordedRunReading: a refused start stops the reading with its error, and the running run is untouched', async () => {
      const store = await fresh()
      const running = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      let produced = false
      let stoppedWith: unknown
      const outcome = withRecordedRunReading(
        { store, tenantId: TENANT, trigger: 'manual', actor: 'alice' },
        (signal) =>
          new Promise<number[]>((_resolve, reject) => {
            // A read that only ends when it is stopped, as a long live read would be.
            signal.addEventListener('abort', () => {
              stoppedWith = signal.reason
              reject(new Error('the read was stopped'))
            })
          }),
        async () => {
          produced = true
          return fakeReport(TENANT, [1])
        },
      )
      await expect(outcome).rejects.toBeInstanceOf(RunInProgressError)
      expect(stoppedWith).toBeInstanceOf(RunInProgressError)
      expect(produced).toBe(false)
      const runs = await listRuns(store, 'alice', TENANT)
      expect(runs.map((r) => [r.id, r.status])).toEqual([[running.id, 'running']])
    })

    it('withRecordedRunReading: a failed read marks the started run failed and rethrows the read error', async () => {
      const store = await fresh()
      await expect(
        withRecordedRunReading(
          { store, tenantId: TENANT, trigger: 'manual', actor: 'alice' },
          async (_signal, started) => {
            await started
            throw new Error('Graph returned 503')
          },
          async () => fakeReport(TENANT, [1]),
        ),
      ).rejects.toThrow('Graph returned 503')
      expect((await listRuns(store, 'alice', TENANT))[0]).toMatchObject({
        status: 'failed',
        error: 'Graph returned 503',
      })
    })

    it('failRun on a run that is no longer running does nothing', async () => {
      const store = await fresh()
      const done = await runWith(store, [1])
      expect(await failRun(store, done.id, new Error('late'))).toBeNull()
    })

    it('refuses a report for another tenant', async () => {
      const store = await fresh()
      const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      await expect(completeRun(store, run.id, fakeReport('another', [1]))).rejects.toThrow(
        /is for tenant another/,
      )
    })
  })

  describe('suggestions', () => {
    it('a completed run replaces the suggestions and keeps, through its open task, the status and assignee of a surviving suggestion', async () => {
      const store = await fresh()
      await addUser(store, 'alice', 'alice', 'admin')
      await addUser(store, 'alice', 'bob', 'reader')
      await runWith(store, [1, 2], 'alice')
      const task = await addTask(store, 'alice', TENANT, 'sg-0000000000000001')
      await setTaskStatus(store, 'alice', task.id, 'inProgress')
      await assignTask(store, 'alice', task.id, 'BOB')
      now = new Date(T0.getTime() + DAY_MS)
      await runWith(store, [1, 3], 'alice')
      const list = await listSuggestions(store, 'alice', TENANT)
      expect(list.map((s) => [s.id, s.status, s.assignee, s.taskId])).toEqual([
        ['sg-0000000000000001', 'inProgress', 'bob', task.id],
        ['sg-0000000000000003', 'notStarted', null, null],
      ])
      expect(list[0]?.firstSeenAt).toEqual(T0)
      expect(list[1]?.firstSeenAt).toEqual(now)
    })

    it('a re-run starts every suggestion afresh by default, except that open tasks stay linked', async () => {
      const store = await fresh()
      await runWith(store, [1, 2])
      const t1 = await addTask(store, 'alice', TENANT, 'sg-0000000000000001')
      await completeTask(store, 'alice', t1.id)
      const t2 = await addTask(store, 'alice', TENANT, 'sg-0000000000000002')
      await setTaskStatus(store, 'alice', t2.id, 'inProgress')
      const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      await completeRun(store, run.id, fakeReport(TENANT, [1, 2]))
      const list = await listSuggestions(store, 'alice', TENANT)
      expect(list.map((s) => [s.status, s.taskId])).toEqual([
        ['notStarted', null],
        ['inProgress', t2.id],
      ])
    })

    it("replaces only the completing tenant's suggestions, whether or not another tenant has any", async () => {
      const store = await fresh()
      const OTHER = '99999999-2222-3333-4444-555555555555'
      const other = async () => (await listSuggestions(store, ADMIN, OTHER)).map((s) => s.id)
      // Alone in the store (PGlite empties the table by TRUNCATE and writes the rows frozen), then re-run alone.
      await runWith(store, [1, 2])
      await runWith(store, [2, 3])
      expect(await ids(store)).toEqual(['sg-0000000000000002', 'sg-0000000000000003'])
      // A second tenant's run leaves the first tenant's suggestions alone, and the other way round.
      const run = await startRun(store, { tenantId: OTHER, trigger: 'manual', actor: ADMIN })
      await completeRun(store, run.id, fakeReport(OTHER, [7, 8]))
      expect(await ids(store)).toEqual(['sg-0000000000000002', 'sg-0000000000000003'])
      await runWith(store, [4])
      expect(await ids(store)).toEqual(['sg-0000000000000004'])
      expect(await other()).toEqual(['sg-0000000000000007', 'sg-0000000000000008'])
      // Once the other tenant has none left, a run may empty the table again; still only its own rows change.
      const empty = await startRun(store, { tenantId: OTHER, trigger: 'manual', actor: ADMIN })
      await completeRun(store, empty.id, fakeReport(OTHER, []))
      await runWith(store, [5, 6])
      expect(await ids(store)).toEqual(['sg-0000000000000005', 'sg-0000000000000006'])
      expect(await other()).toEqual([])
    })

    it('stores large reports in batches and filters by category, platform and status', async () => {
      const store = await fresh()
      const items = Array.from({ length: 1_234 }, (_, i) => ({
        device: i + 1,
        category: i % 3 === 0 ? ('duplicate' as const) : ('stale' as const),
        platform: i % 2 === 0 ? ('windows' as const) : ('macOS' as const),
      }))
      await runWith(store, items)
      expect(await listSuggestions(store, 'alice', TENANT)).toHaveLength(1_234)
      const dupMac = await listSuggestions(store, 'alice', TENANT, {
        category: 'duplicate',
        platform: 'macOS',
      })
      expect(dupMac).toHaveLength(
        items.filter((i) => i.category === 'duplicate' && i.platform === 'macOS').length,
      )
      expect(dupMac.every((s) => s.suggestion.device.platform === 'macOS')).toBe(true)
      expect(await listSuggestions(store, 'alice', TENANT, { status: 'completed' })).toEqual([])
    })

    it('shows one suggestion with its rationale and evidence, by id or unique prefix', async () => {
      const store = await fresh()
      await runWith(store, [
        { device: 1, id: 'sg-aaaa1111' },
        { device: 2, id: 'sg-bbbb2222' },
        { device: 3, id: 'sg-bbbb3333' },
      ])
      const s = await getSuggestion(store, 'alice', TENANT, 'sg-bbbb2222')
      expect(s.suggestion.rationale).toContain('PC-2')
      expect(s.suggestion.evidence[0]?.recordId).toBe(entraId(2))
      expect((await getSuggestion(store, 'alice', TENANT, 'sg-aaaa')).id).toBe('sg-aaaa1111')
      await expect(getSuggestion(store, 'alice', TENANT, 'sg-bbbb')).rejects.toThrow(/several suggestions/)
      await expect(getSuggestion(store, 'alice', TENANT, 'sg-b')).rejects.toThrow(/no current suggestion/)
    })
  })

  describe('tasks', () => {
    it('survive re-runs with a copy of their suggestion, and stillFlagged follows the latest run by device id', async () => {
      const store = await fresh()
      await runWith(store, [1, 2])
      const task = await addTask(store, 'alice', TENANT, 'sg-0000000000000001')
      expect(task).toMatchObject({
        status: 'notStarted',
        stillFlagged: true,
        flaggedBy: 'sg-0000000000000001',
      })
      await expect(addTask(store, 'alice', TENANT, 'sg-0000000000000001')).rejects.toThrow(
        /already in Tasks as task/,
      )

      await runWith(store, [2])
      let [t] = await listTasks(store, 'alice', TENANT)
      expect(t).toMatchObject({ id: task.id, stillFlagged: false, flaggedBy: null })
      expect(t?.suggestion.device.displayName).toBe('PC-1')
      expect(t?.deviceIds.entraObjectId).toBe(entraId(1))

      // The device comes back under another suggestion id (another category): matched by its stable ids.
      await runWith(store, [2, { device: 1, id: 'sg-new-id-for-pc1', category: 'duplicate' }])
      ;[t] = await listTasks(store, 'alice', TENANT)
      expect(t).toMatchObject({ stillFlagged: true, flaggedBy: 'sg-new-id-for-pc1' })
    })

    it('are assigned, commented, moved through their statuses and completed, each change audited', async () => {
      const store = await fresh()
      await runWith(store, [1])
      const task = await addTask(store, 'alice', TENANT, 'sg-0000000000000001')
      await assignTask(store, 'alice', task.id, 'carol')
      await setTaskStatus(store, 'alice', task.id, 'inProgress')
      await commentTask(store, 'alice', task.id, 'BitLocker key exported.')
      const done = await completeTask(store, 'alice', String(task.id))
      expect(done).toMatchObject({
        status: 'completed',
        assignee: 'carol',
        completedAt: now,
        commentCount: 1,
      })
      expect((await getTask(store, 'alice', task.id)).comments.map((c) => [c.author, c.text])).toEqual([
        ['alice', 'BitLocker key exported.'],
      ])
      expect(await listTasks(store, 'alice', TENANT, { status: 'inProgress' })).toEqual([])
      const audit = (await readAudit(store.db)).filter((e) => e.action.startsWith('task.'))
      expect(audit.map((e) => e.action)).toEqual([
        'task.add',
        'task.assign',
        'task.status',
        'task.comment',
        'task.status',
      ])
      expect(audit[2]).toMatchObject({ before: { status: 'notStarted' }, after: { status: 'inProgress' } })
      // A completed task frees the suggestion to be tracked again.
      await expect(addTask(store, 'alice', TENANT, 'sg-0000000000000001')).resolves.toMatchObject({
        status: 'completed',
      })
    })

    it('refuses an assignee who is not a user once users are set up', async () => {
      const store = await fresh()
      await addUser(store, 'alice', 'alice', 'admin')
      await runWith(store, [1], 'alice')
      const task = await addTask(store, 'alice', TENANT, 'sg-0000000000000001')
      await expect(assignTask(store, 'alice', task.id, 'mallory')).rejects.toThrow(/no such user/)
    })
  })

  describe('agent identity', () => {
    it('expires after 90 consecutive days without a run (day 90 usable, day 91 expired); renew fixes it', async () => {
      const store = await fresh()
      const agent = await createAgent(store, 'alice', {
        tenantId: TENANT,
        adminUpn: ADMIN,
        authMethod: 'secret',
        clientId: 'app-1',
      })
      expect(agent.expiresAt).toEqual(new Date(T0.getTime() + 90 * DAY_MS))

      now = new Date(T0.getTime() + 90 * DAY_MS)
      expect((await showAgent(store, 'alice', TENANT)).expired).toBe(false)

      now = new Date(T0.getTime() + 91 * DAY_MS)
      const shown = await showAgent(store, 'alice', TENANT)
      expect(shown).toMatchObject({ expired: true, expiresAt: new Date(T0.getTime() + 90 * DAY_MS) })
      const err = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' }).catch(
        (e) => e,
      )
      expect(err).toBeInstanceOf(AgentExpiredError)
      expect(err.message).toBe(
        `the agent identity for tenant ${TENANT} expired on 2026-04-01 after 90 days without a run; run 'offboard agent renew --tenant ${TENANT}'.`,
      )
      const [failed] = await listRuns(store, 'alice', TENANT)
      expect(failed).toMatchObject({ status: 'failed', error: err.message })

      await renewAgent(store, 'alice', TENANT)
      const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
      await completeRun(store, run.id, fakeReport(TENANT, []))
      expect((await showAgent(store, 'alice', TENANT)).expiresAt).toEqual(
        new Date(now.getTime() + 90 * DAY_MS),
      )
    })

    it('is refreshed by every run: a run on day 60 moves the expiry to day 150', async () => {
      const store = await fresh()
      await createAgent(store, 'alice', { tenantId: TENANT, adminUpn: ADMIN })
      now = new Date(T0.getTime() + 60 * DAY_MS)
      await runWith(store, [1], 'alice')
      now = new Date(T0.getTime() + 149 * DAY_MS)
      await expect(
        startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' }),
      ).resolves.toBeDefined()
      expect((await showAgent(store, 'alice', TENANT)).lastRunAt).toEqual(now)
    })

    it('is one per tenant, stores no secret, takes instructions, and can be removed and created again', async () => {
      const store = await fresh()
      await createAgent(store, 'alice', {
        tenantId: TENANT,
        adminUpn: ADMIN,
        clientId: 'app-1',
        scheduleHours: 6,
      })
      await expect(
        createAgent(store, 'alice', { tenantId: TENANT, adminUpn: 'bob@contoso.com' }),
      ).rejects.toThrow(/already has an agent \(admin identity alice@contoso.com\)/)
      const updated = await setInstructions(store, 'alice', TENANT, 'Skip devices tagged LAB.')
      expect(updated).toMatchObject({
        instructions: 'Skip devices tagged LAB.',
        scheduleHours: 6,
        clientId: 'app-1',
      })
      await removeAgent(store, 'alice', TENANT)
      await expect(showAgent(store, 'alice', TENANT)).rejects.toThrow(/has no agent/)
      await expect(createAgent(store, 'alice', { tenantId: TENANT, adminUpn: ADMIN })).resolves.toMatchObject(
        {
          adminUpn: ADMIN,
        },
      )
      const actions = (await readAudit(store.db)).map((e) => e.action)
      expect(actions).toEqual([
        'user.add',
        'agent.create',
        'agent.instructions',
        'agent.remove',
        'agent.create',
      ])
      await expect(createAgent(store, 'alice', { tenantId: TENANT, adminUpn: 'not-an-upn' })).rejects.toThrow(
        /user principal name/,
      )
    })

    it('lets a tenant without an agent still record its runs', async () => {
      const store = await fresh()
      await runWith(store, [1])
      expect(await ids(store)).toEqual(['sg-0000000000000001'])
      const [run] = await listRuns(store, 'alice', TENANT)
      expect(run).toMatchObject({ status: 'completed', instructions: null })
    })
  })

  describe('roles', () => {
    it('makes the first agent creator admin, then enforces roles and audits every denial', async () => {
      const store = await fresh()
      await createAgent(store, 'alice', { tenantId: TENANT, adminUpn: ADMIN })
      expect(await listUsers(store, 'alice')).toMatchObject([{ name: 'alice', role: 'admin' }])
      await addUser(store, 'alice', 'Bob', 'reader')
      await addUser(store, 'alice', 'carol', 'actor')

      // A reader views and runs, and keeps tasks.
      await runWith(store, [1], 'bob')
      await expect(listSuggestions(store, 'bob', TENANT)).resolves.toHaveLength(1)
      await expect(addTask(store, 'bob', TENANT, 'sg-0000000000000001')).resolves.toBeDefined()

      // …but neither acts on devices nor configures the agent.
      await expect(authorize(store, 'bob', 'disableDevices', { tenantId: TENANT })).rejects.toThrow(
        /user bob \(role reader\) may not disable devices; that needs the actor role/,
      )
      await expect(renewAgent(store, 'bob', TENANT)).rejects.toBeInstanceOf(PermissionDenied)
      await expect(authorize(store, 'carol', 'disableDevices')).resolves.toMatchObject({ role: 'actor' })
      await expect(setInstructions(store, 'carol', TENANT, 'x')).rejects.toThrow(/needs the admin role/)
      await expect(listSuggestions(store, 'mallory', TENANT)).rejects.toThrow(/mallory is not known/)

      const denied = (await readAudit(store.db)).filter((e) => e.action === 'permission.denied')
      expect(denied.map((e) => [e.actor, e.target, e.result])).toEqual([
        ['bob', 'disableDevices', 'denied'],
        ['bob', 'configureAgent', 'denied'],
        ['carol', 'configureAgent', 'denied'],
        ['mallory', 'view', 'denied'],
      ])
      expect(denied[0]?.tenantId).toBe(TENANT)
    })

    it('in set-up mode (no users) lets anyone view and run, but nobody disable devices', async () => {
      const store = await fresh()
      await expect(authorize(store, 'anyone', 'run')).resolves.toMatchObject({ open: true })
      await expect(authorize(store, 'anyone', 'disableDevices')).rejects.toThrow(/no users are set up/)
    })

    it('never leaves the store without an administrator', async () => {
      const store = await fresh()
      await addUser(store, 'alice', 'bob', 'reader')
      expect((await listUsers(store, 'alice')).map((u) => [u.name, u.role])).toEqual([
        ['alice', 'admin'],
        ['bob', 'reader'],
      ])
      await expect(removeUser(store, 'alice', 'alice')).rejects.toThrow(/last administrator/)
      await expect(setUserRole(store, 'alice', 'alice', 'reader')).rejects.toThrow(/last administrator/)
      await setUserRole(store, 'alice', 'bob', 'admin')
      await removeUser(store, 'bob', 'alice')
      await expect(addUser(store, 'bob', 'offboard-scheduler', 'reader')).rejects.toThrow(/reserved/)
    })

    it('lets the scheduler principal run but nothing else', async () => {
      const store = await fresh()
      await addUser(store, 'alice', 'alice', 'admin')
      await expect(authorize(store, 'offboard-scheduler', 'run')).resolves.toBeDefined()
      await expect(authorize(store, 'offboard-scheduler', 'configureAgent')).rejects.toBeInstanceOf(
        PermissionDenied,
      )
    })
  })

  describe('audit log', () => {
    /** Some history: ten entries of several kinds. */
    async function history(store: Store) {
      await createAgent(store, 'alice', { tenantId: TENANT, adminUpn: ADMIN })
      await runWith(store, [1, 2], 'alice')
      await runWith(store, [2], 'alice')
      await recordDeviceAction(store, {
        actor: 'alice',
        tenantId: TENANT,
        system: 'entra',
        operation: 'disable',
        target: entraId(2),
        before: { accountEnabled: true },
        after: { accountEnabled: false },
        result: 'ok',
      })
      await renewAgent(store, 'alice', TENANT)
      await authorize(store, 'mallory', 'view').catch(() => {})
      const entries = await readAudit(store.db)
      expect(entries.length).toBeGreaterThanOrEqual(9)
      return entries
    }

    /** Tampering as someone with SQL access would: with the append-only trigger switched off. */
    async function tamper(store: Store, statement: ReturnType<typeof sql>) {
      await sql`alter table audit_log disable trigger user`.execute(store.db)
      await statement.execute(store.db)
      await sql`alter table audit_log enable trigger user`.execute(store.db)
    }

    it('verifies an untouched chain and refuses updates and deletes', async () => {
      const store = await fresh()
      const entries = await history(store)
      const result = await verifyAudit(store.db)
      expect(result).toEqual({
        ok: true,
        entries: entries.length,
        headSeq: entries.length,
        headHash: entries.at(-1)!.hash,
      })
      expect(entries[0]?.prevHash).toBe('0'.repeat(64))
      const action = entries.find((e) => e.action === 'action.entra.disable')
      expect(action).toMatchObject({
        before: { accountEnabled: true },
        after: { accountEnabled: false },
        result: 'ok',
      })
      await expect(sql`update audit_log set actor = 'x' where seq = 1`.execute(store.db)).rejects.toThrow(
        /append-only/,
      )
      await expect(sql`delete from audit_log where seq = 1`.execute(store.db)).rejects.toThrow(/append-only/)
    })

    it('detects an altered entry', async () => {
      const store = await fresh()
      await history(store)
      await tamper(
        store,
        sql`update audit_log set after = '{"accountEnabled": true}' where action = 'action.entra.disable'`,
      )
      const seq = (await readAudit(store.db)).find((e) => e.action === 'action.entra.disable')!.seq
      expect(await verifyAudit(store.db)).toMatchObject({ ok: false, seq, problem: 'altered' })
    })

    it('detects a deleted entry (a gap) and a deletion hidden by renumbering', async () => {
      const store = await fresh()
      await history(store)
      await tamper(store, sql`delete from audit_log where seq = 4`)
      expect(await verifyAudit(store.db)).toMatchObject({ ok: false, seq: 4, problem: 'deleted' })
      await tamper(store, sql`update audit_log set seq = seq + 1000 where seq > 4`)
      await tamper(store, sql`update audit_log set seq = seq - 1001 where seq > 1000`)
      const result = await verifyAudit(store.db)
      expect(result).toMatchObject({ ok: false, seq: 4, problem: 'deleted' })
      expect(result.ok === false && result.message).toMatch(/entry 4 does not link to entry 3/)
    })

    it('detects an inserted entry, even one with a correct hash of its own', async () => {
      const store = await fresh()
      const entries = await history(store)
      // Make room after seq 3 and forge a well-formed entry 4 that links to entry 3.
      await tamper(store, sql`update audit_log set seq = seq + 1000 where seq >= 4`)
      await tamper(store, sql`update audit_log set seq = seq - 999 where seq > 1000`)
      const { entryHash } = await import('./audit.js')
      const third = entries[2]!
      const forged = {
        at: third.at.toISOString(),
        actor: 'mallory',
        action: 'agent.renew',
        tenantId: TENANT,
        target: TENANT,
        before: null,
        after: null,
        result: 'ok',
      }
      const hash = entryHash(third.hash, forged)
      await tamper(
        store,
        sql`insert into audit_log (seq, at, actor, action, tenant_id, target, result, prev_hash, hash)
            values (4, ${third.at}, 'mallory', 'agent.renew', ${TENANT}, ${TENANT}, 'ok', ${third.hash}, ${hash})`,
      )
      const result = await verifyAudit(store.db)
      expect(result).toMatchObject({ ok: false, seq: 4, problem: 'inserted' })
    })

    it('chains entries from concurrent writers without forking', async () => {
      const store = await fresh()
      const other = await backend.attach(store)
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          authorize(i % 2 ? store : other, 'anyone', 'disableDevices').catch(() => {}),
        ),
      )
      expect(await verifyAudit(store.db)).toMatchObject({ ok: true, entries: 10 })
    })
  })
})
