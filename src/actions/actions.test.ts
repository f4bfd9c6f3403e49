/**
 * @module Acting on the simulator: the dry run changes nothing, confirm makes exactly the planned calls once, a second
 * act none, crashes at every durable point resume to every call exactly once, and undo restores. The simulator's
 * call record is the truth.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { readAudit, verifyAudit } from '../agent/audit.js'
import { NotFoundError, PermissionDenied } from '../agent/errors.js'
import { addUser } from '../agent/roles.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import type { Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import {
  type ActEvent,
  BrakeError,
  dryRunAct,
  listSteps,
  resumeAct,
  startAct,
  undoAction,
} from './executor.js'
import {
  ACTOR,
  entraObjectId,
  graphOf,
  patchesByTarget,
  seedTenant,
  simulatorData,
  TENANT,
} from './test-support.js'

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
const noSleep = async () => {}

describe.each(testBackends())('acting on Entra devices ($name)', (backend) => {
  const sims: Simulator[] = []
  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close()
    await backend.cleanup()
  })
  afterAll(() => backend.teardown())

  async function setUp(
    devices: readonly number[],
    opts: { simDevices?: number; extra?: Record<number, Record<string, unknown>>; fleet?: number } = {},
  ): Promise<{
    store: Store
    sim: Simulator
    ctx: { tenantId: string; actor: string; graph: ReturnType<typeof graphOf>; sleep: () => Promise<void> }
  }> {
    const store = await backend.create()
    await seedTenant(store, devices, opts.fleet)
    const sim = await startSimulator({ data: simulatorData(opts.simDevices ?? devices.length, opts.extra) })
    sims.push(sim)
    return { store, sim, ctx: { tenantId: TENANT, actor: ACTOR, graph: graphOf(sim), sleep: noSleep } }
  }

  it('the dry run reads, plans and changes nothing; opt-in and manual steps are listed, not run', async () => {
    const { store, sim, ctx } = await setUp(range(5))
    const result = await dryRunAct(store, { ...ctx, selection: { all: true } })
    expect(sim.calls()).toEqual([])
    expect(result.dryRun).toBe(true)
    expect(result.steps).toHaveLength(5)
    expect(result.steps.every((s) => s.state === 'wouldRun')).toBe(true)
    expect(result.steps[0]!.note).toContain('accountEnabled: true → false')
    expect(result.notRun.map((s) => s.note)).toContain('not run by offboard (opt-in not enabled)')
    expect(result.notRun.some((s) => s.note?.startsWith('manual — '))).toBe(true)
    expect(await store.db.selectFrom('action_steps').selectAll().execute()).toEqual([])
  })

  it('refuses without a completed run', async () => {
    const store = await backend.create()
    const sim = await startSimulator({ data: simulatorData(1) })
    sims.push(sim)
    await expect(
      dryRunAct(store, { tenantId: TENANT, actor: ACTOR, graph: graphOf(sim), selection: { all: true } }),
    ).rejects.toThrow(NotFoundError)
  })

  it('confirm makes exactly the planned PATCHes once, via $batch; a second act makes none', async () => {
    const { store, sim, ctx } = await setUp(range(45))
    const first = await startAct(store, { ...ctx, selection: { all: true } })
    expect(first.counts).toEqual({ done: 45 })
    const patches = patchesByTarget(sim)
    expect(patches.size).toBe(45)
    expect([...patches.values()].every((n) => n === 1)).toBe(true)
    for (const n of range(45)) expect(patches.get(`/v1.0/devices/${entraObjectId(n)}`)).toBe(1)
    // 45 writes in three $batch requests (20 + 20 + 5), never one PATCH on its own.
    expect(sim.requests().filter((r) => r.method === 'PATCH')).toEqual([])
    expect(sim.data().devices.every((d) => (d as { accountEnabled: boolean }).accountEnabled === false)).toBe(
      true,
    )

    const before = sim.calls().length
    const second = await startAct(store, { ...ctx, selection: { all: true } })
    expect(sim.calls().length).toBe(before)
    expect(second.counts).toEqual({ skipped: 45 })
  })

  it('selects by suggestion id and by category', async () => {
    const { store, sim, ctx } = await setUp(range(6))
    const steps = (await startAct(store, { ...ctx, selection: { category: 'stale' } })).steps
    expect(steps.map((s) => s.targetName)).toEqual(['PC-1', 'PC-3', 'PC-5'])
    const one = await dryRunAct(store, { ...ctx, selection: { suggestionIds: [steps[0]!.suggestionId] } })
    expect(one.steps).toHaveLength(1)
    expect(sim.calls().filter((c) => c.status < 300)).toHaveLength(3)
  })

  it('a record that is gone (404) is reported as already gone, not failed', async () => {
    const { store, ctx } = await setUp(range(4), { simDevices: 3 })
    const r = await startAct(store, { ...ctx, selection: { all: true } })
    expect(r.counts).toEqual({ done: 3, skipped: 1 })
    expect(r.steps.find((s) => s.target === entraObjectId(4))!.note).toBe('already gone (404)')
  })

  it('items throttled inside a batch (429) are sent again after their Retry-After', async () => {
    const { store, sim, ctx } = await setUp(range(40))
    const waits: number[] = []
    sim.setFaults({ rate429: 0.2, seed: 7 })
    const r = await startAct(store, {
      ...ctx,
      sleep: async (ms) => void waits.push(ms),
      selection: { all: true },
    })
    expect(r.counts).toEqual({ done: 40 })
    expect(sim.calls().some((c) => c.method === 'PATCH' && c.status === 429)).toBe(true)
    expect(waits.length).toBeGreaterThan(0)
    expect(waits.every((ms) => ms === 50)).toBe(true)
    const patches = patchesByTarget(sim)
    expect(patches.size).toBe(40)
    expect([...patches.values()].every((n) => n === 1)).toBe(true)
  })

  it('brakes: past either cap the act is refused before any call, unless raised explicitly', async () => {
    const { store, sim, ctx } = await setUp(range(12), { fleet: 100 })
    await expect(
      startAct(store, { ...ctx, selection: { all: true }, maxActions: 10, maxShare: 1 }),
    ).rejects.toThrow(BrakeError)
    // 12 of 100 devices is past the default 10 %.
    await expect(startAct(store, { ...ctx, selection: { all: true } })).rejects.toThrow(/10 % of the fleet/)
    expect(sim.calls()).toEqual([])
    const r = await startAct(store, { ...ctx, selection: { all: true }, maxActions: 12, maxShare: 0.12 })
    expect(r.counts).toEqual({ done: 12 })
  })

  it('a non-Windows object fails with the delegated role needed and the device-code sign-in', async () => {
    const { store, ctx } = await setUp(range(3), { extra: { 2: { operatingSystem: 'iOS' } } })
    const dry = await dryRunAct(store, { ...ctx, selection: { all: true } })
    expect(dry.steps[1]!.state).toBe('wouldFail')
    const r = await startAct(store, { ...ctx, selection: { all: true } })
    expect(r.counts).toEqual({ done: 2, failed: 1 })
    const failed = r.steps.find((s) => s.state === 'failed')!
    expect(failed.note).toContain('Cloud Device Administrator or Intune Administrator')
    expect(failed.note).toContain('OFFBOARD_AUTH=deviceCode')
    expect(failed.note).toContain('403')
  })

  it('undo re-enables what the act disabled, and is audited', async () => {
    const { store, sim, ctx } = await setUp(range(3))
    const r = await startAct(store, { ...ctx, selection: { all: true } })
    const undone = await undoAction(store, { ...ctx, id: r.actId! })
    expect(undone.map((u) => u.state)).toEqual(['undone', 'undone', 'undone'])
    expect(sim.data().devices.every((d) => (d as { accountEnabled: boolean }).accountEnabled === true)).toBe(
      true,
    )
    const audit = await readAudit(store.db, {})
    expect(audit.filter((e) => e.action === 'action.entra.disable.undo' && e.result === 'ok')).toHaveLength(3)
    expect(audit.filter((e) => e.action === 'action.entra.disable')).toHaveLength(3)
    expect(audit.some((e) => e.action === 'action.act.start')).toBe(true)
    expect(audit.some((e) => e.action === 'action.act.finish')).toBe(true)
    // A second undo finds nothing done any more.
    const again = await undoAction(store, { ...ctx, id: String(r.steps[0]!.stepId) })
    expect(again[0]!.state).toBe('notNeeded')
    expect(sim.calls().filter((c) => c.method === 'PATCH')).toHaveLength(6)
  })

  it('acting needs the disableDevices permission; the steps are audited with state before and after', async () => {
    const { store, sim, ctx } = await setUp(range(2))
    await addUser(store, ACTOR, 'bob', 'reader')
    await expect(startAct(store, { ...ctx, actor: 'bob', selection: { all: true } })).rejects.toThrow(
      PermissionDenied,
    )
    expect(sim.calls()).toEqual([])
    await startAct(store, { ...ctx, selection: { all: true } })
    const entries = (await readAudit(store.db, {})).filter((e) => e.action === 'action.entra.disable')
    expect(entries.map((e) => e.target)).toEqual([entraObjectId(1), entraObjectId(2)])
    expect(entries[0]!.before).toMatchObject({ accountEnabled: true, operatingSystem: 'Windows' })
    expect(entries[0]!.after).toMatchObject({ state: 'done', value: { accountEnabled: false } })
    expect((await verifyAudit(store.db)).ok).toBe(true)
  })

  it('plans an act larger than one INSERT can carry (PostgreSQL takes at most 65,535 parameters)', async () => {
    const devices = range(6_500)
    const { store, ctx } = await setUp(devices, { simDevices: 1, fleet: 100_000 })
    const stop = new Error('stop after planning')
    const act = startAct(store, {
      ...ctx,
      selection: { all: true },
      maxActions: 10_000,
      onEvent: (e) => {
        if (e.type === 'planned') throw stop
      },
    })
    await expect(act).rejects.toBe(stop)
    const row = await store.db
      .selectFrom('action_steps')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(row.n)).toBe(devices.length)
  }, 60_000)

  it('a crash after any number of durable steps, then --resume, makes every call exactly once', async () => {
    const DEVICES = 40
    // planned + started + (sent + response) per batch of 20 + one per finished step = 46 durable points.
    for (const n of [...Array.from({ length: 26 }, (_, i) => i), 31, 38, 45, 46]) {
      const { store, sim, ctx } = await setUp(range(DEVICES))
      let seen = 0
      const crash = (_e: ActEvent) => {
        if (seen++ === n) throw new Error(`crash after ${n} steps`)
      }
      const first = startAct(store, { ...ctx, selection: { all: true }, onEvent: crash })
      if (n < 46) {
        await expect(first).rejects.toThrow(`crash after ${n} steps`)
        const resumed = await resumeAct(store, ctx)
        expect(resumed.counts, `crash after ${n}`).toEqual({ done: DEVICES })
      } else await first
      const patches = patchesByTarget(sim)
      expect(patches.size, `crash after ${n}`).toBe(DEVICES)
      expect(
        [...patches.values()].every((c) => c === 1),
        `crash after ${n}`,
      ).toBe(true)
      expect(sim.calls().length, `crash after ${n}`).toBe(DEVICES)
      const act = await store.db.selectFrom('acts').selectAll().executeTakeFirstOrThrow()
      expect(act.status).toBe('completed')
      expect((await listSteps(store, act.id)).every((s) => s.state === 'done')).toBe(true)
      for (const s of sims.splice(0)) await s.close()
      await backend.cleanup()
    }
  }, 90_000)
})
