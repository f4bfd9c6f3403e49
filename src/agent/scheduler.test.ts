/** @module The serve scheduler: due runs, the next run time published on the agent, retries, and stopping. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import { createAgent, showAgent } from './agents.js'
import { SCHEDULER_ACTOR } from './roles.js'
import { listRuns, withRecordedRun } from './runs.js'
import { nextRunTime, RETRY_AFTER_MS, type ServeEvent, startServe } from './scheduler.js'
import { fakeReport } from './test-fixtures.js'

const T0 = new Date('2026-03-01T00:00:00.000Z')
const HOUR = 3_600_000

describe('nextRunTime', () => {
  it('is now for a tenant that never ran or is overdue, else the interval after the latest run', () => {
    expect(nextRunTime(null, 24, T0)).toEqual(T0)
    expect(nextRunTime(new Date(T0.getTime() - 30 * HOUR), 24, T0)).toEqual(T0)
    expect(nextRunTime(new Date(T0.getTime() - 2 * HOUR), 24, T0)).toEqual(new Date(T0.getTime() + 22 * HOUR))
  })
})

describe.each(testBackends())('startServe on $name', (backend) => {
  let now = T0
  const clock = () => now
  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    now = T0
    await backend.cleanup()
  })
  afterAll(() => backend.teardown())

  /** Runs the scheduler on a simulated clock until `hours` have passed; sleeping advances the clock. */
  async function serveFor(
    store: Store,
    hours: number,
    opts: { scheduleHours?: number; failFirst?: boolean } = {},
  ) {
    const events: ServeEvent[] = []
    const end = T0.getTime() + hours * HOUR
    let seenNext: Date | null = null
    let failures = opts.failFirst ? 1 : 0
    const handle = startServe({
      open: async () => ({ ...store, close: async () => {} }),
      clock,
      ...(opts.scheduleHours ? { scheduleHours: opts.scheduleHours } : {}),
      onEvent: (e) => events.push(e),
      runOnce: async ({ tenantId, trigger }) => {
        if (failures-- > 0) throw new Error('the store could not be opened')
        await withRecordedRun({ store, tenantId, trigger, actor: SCHEDULER_ACTOR }, async () =>
          fakeReport(tenantId, [1]),
        )
      },
      sleep: async (ms) => {
        seenNext ??= (await showAgent(store, 'alice', 'contoso')).nextRunAt
        now = new Date(now.getTime() + ms)
        if (now.getTime() >= end) void handle.stop()
      },
    })
    await handle.done
    return { events, seenNext }
  }

  it('runs each agent every 24 h by default, shows the next run on the agent, and clears it on stop', async () => {
    const store = await backend.create({ clock })
    await createAgent(store, 'alice', { tenantId: 'contoso', adminUpn: 'admin@contoso.com' })
    const { events, seenNext } = await serveFor(store, 73)
    const runs = await listRuns(store, 'alice', 'contoso')
    expect(
      runs.map((r) => [r.trigger, r.status, (r.startedAt.getTime() - T0.getTime()) / HOUR]).reverse(),
    ).toEqual([
      ['schedule', 'completed', 0],
      ['schedule', 'completed', 24],
      ['schedule', 'completed', 48],
      ['schedule', 'completed', 72],
    ])
    expect(seenNext).toEqual(new Date(T0.getTime() + 24 * HOUR))
    expect((await showAgent(store, 'alice', 'contoso')).nextRunAt).toBeNull()
    expect(events.at(-1)?.event).toBe('stopped')
  })

  it('takes the agent schedule, or the serve override; a manual run pushes the next scheduled one back', async () => {
    const store = await backend.create({ clock })
    await createAgent(store, 'alice', {
      tenantId: 'contoso',
      adminUpn: 'admin@contoso.com',
      scheduleHours: 6,
    })
    now = new Date(T0.getTime() - 2 * HOUR)
    await withRecordedRun({ store, tenantId: 'contoso', trigger: 'manual', actor: 'alice' }, async () =>
      fakeReport('contoso', [1]),
    )
    now = T0
    await serveFor(store, 12)
    const starts = (await listRuns(store, 'alice', 'contoso')).map(
      (r) => (r.startedAt.getTime() - T0.getTime()) / HOUR,
    )
    expect(starts.reverse()).toEqual([-2, 4, 10])

    now = T0
    const other = await backend.create({ clock })
    await createAgent(other, 'alice', {
      tenantId: 'contoso',
      adminUpn: 'admin@contoso.com',
      scheduleHours: 6,
    })
    await serveFor(other, 13, { scheduleHours: 12 })
    expect((await listRuns(other, 'alice', 'contoso')).length).toBe(2)
  })

  it('reports a scheduled run that could not start and retries it later rather than at once', async () => {
    const store = await backend.create({ clock })
    await createAgent(store, 'alice', { tenantId: 'contoso', adminUpn: 'admin@contoso.com' })
    const { events } = await serveFor(store, 1, { failFirst: true })
    const failed = events.find((e) => e.event === 'runFailed')
    expect(failed).toMatchObject({ tenantId: 'contoso', error: 'the store could not be opened' })
    const [run] = await listRuns(store, 'alice', 'contoso')
    expect(run?.startedAt).toEqual(new Date(T0.getTime() + RETRY_AFTER_MS))
  })

  it('leaves tenants without an agent, and removed agents, unscheduled', async () => {
    const store = await backend.create({ clock })
    await createAgent(store, 'alice', { tenantId: 'contoso', adminUpn: 'admin@contoso.com' })
    await withRecordedRun({ store, tenantId: 'fabrikam', trigger: 'manual', actor: 'alice' }, async () =>
      fakeReport('fabrikam', [1]),
    )
    const { events } = await serveFor(store, 1)
    const schedule = events.find((e) => e.event === 'schedule')
    expect(schedule && 'tenants' in schedule && schedule.tenants.map((t) => t.tenantId)).toEqual(['contoso'])
    expect(await listRuns(store, 'alice', 'fabrikam')).toHaveLength(1)
  })
})
