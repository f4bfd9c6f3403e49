/**
 * @module Opt-in operations on the simulator: Intune delete and Defender offboard run only when the tenant policy's
 * `optIn` list enables them, each call once, in the device's plan order; a second act makes no further changes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { addUser } from '../agent/roles.js'
import { completeRun, startRun } from '../agent/runs.js'
import { fakeReport, fakeSuggestion } from '../agent/test-fixtures.js'
import type { Action } from '../domain/action.js'
import type { OptInOperation } from '../domain/policy.js'
import { Report } from '../domain/report.js'
import { ApiClient } from '../lib/graph-client.js'
import { RateLimiter } from '../lib/rate-limiter.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { autopilotIdentity, machine, machineId, managedDevice } from '../simulator/test-support.js'
import type { SimulatorOptions } from '../simulator/types.js'
import type { Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import { autopilotDeleteHandler, autopilotUnassignHandler } from './autopilot.js'
import { defenderOffboardHandler, MANUAL_OFFBOARD } from './defender-offboard.js'
import { type ActOptions, BrakeError, defaultRegistry, resumeAct, startAct } from './executor.js'
import { ACTOR, clientsOf, offboardStep, planFor, simulatorData, TENANT } from './test-support.js'

const noSleep = async () => {}
const WRITES = new Set(['POST', 'PATCH', 'DELETE'])

async function firstSuggestion(store: Store): Promise<string | undefined> {
  const row = await store.db.selectFrom('suggestions').select('id').orderBy('position').executeTakeFirst()
  return row?.id
}

/** The Autopilot deregistration steps a plan carries for device `n` (opt-in, reference §6.3). */
function autopilotSteps(n: number): Action[] {
  const id = String(autopilotIdentity(n).id)
  const base = { targetName: `SN${n}`, automation: 'optIn' as const, prerequisites: [], warnings: [] }
  return [
    {
      ...base,
      step: 2,
      system: 'autopilot',
      operation: 'unassignUser',
      target: id,
      instructions: 'Unassign the user.',
      request: {
        api: 'graph',
        method: 'POST',
        path: `/deviceManagement/windowsAutopilotDeviceIdentities/${id}/unassignUserFromDevice`,
      },
    },
    {
      ...base,
      step: 3,
      system: 'autopilot',
      operation: 'delete',
      target: id,
      instructions: 'Delete the Autopilot identity.',
      request: {
        api: 'graph',
        method: 'DELETE',
        path: `/deviceManagement/windowsAutopilotDeviceIdentities/${id}`,
      },
    },
  ]
}

/** A completed run whose suggestions carry the given plans (device n: {@link planFor} plus its offboard step). */
/** The Entra delete step a plan carries for device `n` (opt-in; reference §2.5). */
function entraDeleteStep(n: number): Action {
  const id = planFor(n)[1]!.target
  return {
    step: 5,
    system: 'entra',
    operation: 'delete',
    target: id,
    targetName: `PC-${n}`,
    automation: 'optIn',
    instructions: 'Export the keys, then delete the Entra object.',
    prerequisites: [],
    warnings: ['Deleting an Entra device object cannot be undone.'],
    request: { api: 'graph', method: 'DELETE', path: `/devices/${id}` },
  }
}

async function seed(
  store: Store,
  devices: readonly number[],
  plan: (n: number) => Action[] = (n) => [...planFor(n), ...autopilotSteps(n), offboardStep(n)],
): Promise<void> {
  await addUser(store, ACTOR, ACTOR, 'admin')
  const base = fakeReport(TENANT, [])
  const suggestions = devices.map((n) => ({
    ...fakeSuggestion({ device: n, category: 'stale' }),
    actions: plan(n),
  }))
  const report = Report.parse({
    ...base,
    summary: {
      ...base.summary,
      counts: { ...base.summary.counts, devices: 1_000, suggestions: devices.length },
    },
    suggestions,
  })
  const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: ACTOR })
  await completeRun(store, run.id, report)
}

describe.each(testBackends())('opt-in operations ($name)', (backend) => {
  const sims: Simulator[] = []
  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close()
    await backend.cleanup()
  })
  afterAll(() => backend.teardown())

  async function setUp(
    devices: readonly number[],
    machines: Record<number, Record<string, unknown>> = {},
    intune: Record<number, Record<string, unknown>> = {},
    simOptions: Partial<SimulatorOptions> = {},
    shape: { entra?: Record<number, Record<string, unknown>>; plan?: (n: number) => Action[] } = {},
  ) {
    const store = await backend.create()
    await seed(store, devices, shape.plan)
    const sim = await startSimulator({
      // MachineActions end at once unless a test follows them over time.
      machineActionDelayMs: 0,
      ...simOptions,
      data: {
        ...simulatorData(devices.length, shape.entra),
        managedDevices: devices.map((n) => managedDevice(n, intune[n] ?? {})),
        machines: devices.map((n) => machine(n, machines[n] ?? {})),
        windowsAutopilotDeviceIdentities: devices.map((n) => autopilotIdentity(n)),
      },
    })
    sims.push(sim)
    const clients = clientsOf(sim)
    const act = (optIn: OptInOperation[], extra: Partial<ActOptions> = {}) =>
      startAct(store, {
        tenantId: TENANT,
        actor: ACTOR,
        graph: clients.graph,
        defender: clients.defender,
        sleep: noSleep,
        selection: { all: true },
        policy: { optIn },
        ...extra,
      })
    const writes = () => sim.calls().filter((c) => WRITES.has(c.method) && !c.path.endsWith('/$batch'))
    return { sim, act, writes, store }
  }

  it('with intune.delete enabled the Intune DELETE is made once, and the Entra disable still runs after it', async () => {
    const { act, writes } = await setUp([1, 2])
    const result = await act(['intune.delete'])
    expect(result.counts).toEqual({ done: 4 })
    const deletes = writes().filter((c) => c.method === 'DELETE')
    expect(deletes.map((c) => c.path).sort()).toEqual(
      [1, 2].map((n) => `/v1.0/deviceManagement/managedDevices/${managedDevice(n).id}`).sort(),
    )
    for (const n of [1, 2]) {
      const del = deletes.find((c) => c.path.endsWith(String(managedDevice(n).id)))!
      const patch = writes().find((c) => c.method === 'PATCH' && c.path.endsWith(planFor(n)[1]!.target))!
      expect(patch.seq).toBeGreaterThan(del.seq)
    }
    expect(result.notRun.filter((s) => s.system === 'defender')).toHaveLength(2)
  })

  it('without the opt-in no Intune call is made', async () => {
    const { sim, act } = await setUp([1, 2])
    const result = await act([])
    expect(result.counts).toEqual({ done: 2 })
    expect(sim.calls().filter((c) => c.path.includes('managedDevices'))).toEqual([])
    expect(result.notRun.find((s) => s.system === 'intune')?.note).toBe(
      'not run by offboard (opt-in not enabled)',
    )
  })

  it('defender.offboard POSTs once per supported machine with a Comment; a Linux machine gets the manual way, no call', async () => {
    const { act, writes } = await setUp([1, 2], { 2: { osPlatform: 'Linux' } })
    const result = await act(['defender.offboard'])
    const posts = writes().filter((c) => c.path.endsWith('/offboard'))
    expect(posts.map((c) => c.path)).toEqual([`/api/machines/${machineId(1)}/offboard`])
    for (const p of posts) expect((p.body as { Comment?: unknown }).Comment).toEqual(expect.any(String))
    const done = result.steps.find((s) => s.target === machineId(1))!
    expect(done.state).toBe('done')
    expect(done.after).toMatchObject({
      machineActionId: expect.any(String),
      machineActionStatus: 'Succeeded',
    })
    const failed = result.steps.find((s) => s.target === machineId(2))!
    expect(failed.state).toBe('failed')
    expect(failed.note).toContain('cannot offboard a Linux machine')
    expect(failed.note).toContain(MANUAL_OFFBOARD)
  })

  it('follows each MachineAction until it ends: Succeeded stays done, Failed fails the step with the reason', async () => {
    const { act, sim } = await setUp(
      [1, 2],
      {},
      {},
      { machineActionDelayMs: 150, failingMachines: [machineId(2)] },
    )
    const registry = defaultRegistry()
    registry.register(defenderOffboardHandler({ pollMs: 50, followMs: 10_000 }))
    const result = await act(['defender.offboard'], {
      registry,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    })
    const ok = result.steps.find((s) => s.target === machineId(1))!
    expect(ok.state).toBe('done')
    expect(ok.after).toMatchObject({ machineActionStatus: 'Succeeded' })
    const bad = result.steps.find((s) => s.target === machineId(2))!
    expect(bad.state).toBe('failed')
    expect(bad.note).toContain('ended Failed')
    // The follow-up listed the actions (several rounds while Pending), and never asked a machine twice.
    const lists = sim.requests().filter((c) => c.method === 'GET' && c.path === '/api/machineactions')
    expect(lists.length).toBeGreaterThan(2)
    expect(sim.calls().filter((c) => c.path.endsWith('/offboard'))).toHaveLength(2)
  })

  it('stops following at its bounded wait and says the action is still underway', async () => {
    const { act } = await setUp([1], {}, {}, { machineActionDelayMs: 60_000 })
    const registry = defaultRegistry()
    registry.register(defenderOffboardHandler({ pollMs: 20, followMs: 100 }))
    const result = await act(['defender.offboard'], {
      registry,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    })
    const step = result.steps.find((s) => s.system === 'defender')!
    expect(step.state).toBe('done')
    expect(step.after).toMatchObject({ machineActionStatus: 'Pending' })
    expect(step.note).toContain('still Pending')
  })

  const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
  function autopilotRegistry(wait: { intuneWaitMs: number; deregisterWaitMs?: number }) {
    const registry = defaultRegistry()
    registry.register(autopilotUnassignHandler({ pollMs: 40, ...wait }))
    registry.register(autopilotDeleteHandler({ pollMs: 40, ...wait }))
    return registry
  }

  it('autopilot.deregister waits for the Intune delete to settle, then unassigns and deletes, before the Entra disable', async () => {
    const { act, sim, writes } = await setUp([1, 2], {}, {}, { intuneDeleteDelayMs: 200 })
    const result = await act(['intune.delete', 'autopilot.deregister'], {
      registry: autopilotRegistry({ intuneWaitMs: 5_000 }),
      sleep: realSleep,
    })
    expect(result.counts).toEqual({ done: 8 })
    for (const n of [1, 2]) {
      const ap = String(autopilotIdentity(n).id)
      const seqOf = (method: string, end: string) =>
        writes().find((c) => c.method === method && c.path.endsWith(end))?.seq ?? Number.NaN
      const order = [
        seqOf('DELETE', String(managedDevice(n).id)),
        seqOf('POST', `${ap}/unassignUserFromDevice`),
        seqOf('DELETE', ap),
        seqOf('PATCH', planFor(n)[1]!.target),
      ]
      expect(order.every(Number.isFinite)).toBe(true)
      expect([...order].sort((a, b) => a - b)).toEqual(order)
    }
    // The Autopilot steps were not sent while Intune still listed the records as deletePending.
    const intuneGone = Math.max(
      ...writes()
        .filter((c) => c.path.includes('managedDevices'))
        .map((c) => Date.parse(c.at)),
    )
    const firstUnassign = writes().find((c) => c.path.endsWith('/unassignUserFromDevice'))!
    expect(Date.parse(firstUnassign.at) - intuneGone).toBeGreaterThanOrEqual(150)
    expect(sim.data().windowsAutopilotDeviceIdentities).toEqual([])
  })

  it('autopilot.deregister refuses, after a bounded wait, while the Intune record is still there; the device waits', async () => {
    const { act, writes } = await setUp([1])
    const result = await act(['autopilot.deregister'], {
      registry: autopilotRegistry({ intuneWaitMs: 120 }),
      sleep: realSleep,
    })
    const unassign = result.steps.find((s) => s.operation === 'unassignUser')!
    expect(unassign.state).toBe('failed')
    expect(unassign.note).toContain('still in Intune')
    expect(unassign.note).toContain('§6.3')
    expect(result.steps.filter((s) => s.suggestionId === unassign.suggestionId).map((s) => s.state)).toEqual([
      'failed',
      'skipped',
      'skipped',
    ])
    expect(writes()).toEqual([])
  })

  it('follows an asynchronous deregistration until the identity is gone', async () => {
    const { act, sim } = await setUp([1], {}, {}, { autopilotDeleteDelayMs: 150 })
    const result = await act(['intune.delete', 'autopilot.deregister'], {
      registry: autopilotRegistry({ intuneWaitMs: 2_000, deregisterWaitMs: 5_000 }),
      sleep: realSleep,
    })
    const del = result.steps.find((s) => s.system === 'autopilot' && s.operation === 'delete')!
    expect(del.state).toBe('done')
    expect(del.after).toMatchObject({ deregistration: 'complete' })
    expect(sim.data().windowsAutopilotDeviceIdentities).toEqual([])
  })

  it("refuses, before any call, an act that would pass Intune's daily delete limit with offboard's own deletes of the day", async () => {
    const { act, sim, store } = await setUp([1, 2])
    const at = store.clock()
    await store.db
      .insertInto('acts')
      .values({
        id: 'earlier',
        tenant_id: TENANT,
        run_id: (await store.db.selectFrom('runs').select('id').executeTakeFirstOrThrow()).id,
        actor: ACTOR,
        status: 'completed',
        selection: '{}',
        options: '{}',
        started_at: at,
      })
      .execute()
    const earlier = Array.from({ length: 999 }, (_, i) => ({
      act_id: 'earlier',
      tenant_id: TENANT,
      position: i + 1,
      suggestion_id: 'sg-x',
      system: 'intune',
      operation: 'delete',
      target: `old-${i}`,
      target_name: null,
      state: 'done',
      created_at: at,
      updated_at: at,
    }))
    await store.db.insertInto('action_steps').values(earlier).execute()
    const err = await act(['intune.delete']).catch((e) => e)
    expect(err).toBeInstanceOf(BrakeError)
    expect(err.message).toContain(
      "2 Intune deletes (plus 999 by offboard in the last 24 hours) pass Intune's daily tenant limit of 1,000",
    )
    expect(err.hint).toContain('Microsoft support')
    expect(sim.calls()).toEqual([])
    // One delete fits.
    const one = await act(['intune.delete'], {
      selection: { suggestionIds: [(await firstSuggestion(store))!] },
    })
    expect(one.counts.done).toBeGreaterThan(0)
  })

  it("never exceeds Defender's per-minute and per-hour limits at volume; every machine is offboarded exactly once", async () => {
    // Scaled limits (10/min, 150/h) on both sides exercise the same sliding windows as 100/min and 1,500/h, on a
    // virtual clock that the client's waits advance, so the simulator judges every call at the time it was made.
    const limits = { perMinute: 10, perHour: 150 }
    const count = 190
    let virtual = Date.parse('2026-11-01T00:00:00Z')
    const clock = {
      now: () => virtual,
      sleep: async (ms: number) => {
        virtual += ms
      },
    }
    const devices = Array.from({ length: count }, (_, i) => i + 1)
    const store = await backend.create()
    await seed(store, devices)
    const sim = await startSimulator({
      clock: clock.now,
      defenderLimits: limits,
      machineActionDelayMs: 0,
      data: { ...simulatorData(count), machines: devices.map((n) => machine(n)) },
    })
    sims.push(sim)
    const clients = clientsOf(sim)
    const defender = new ApiClient({
      ...clients.defender.opts,
      sleep: clock.sleep,
      limiter: new RateLimiter({
        windows: [
          { limit: limits.perMinute, ms: 60_000 },
          { limit: limits.perHour, ms: 3_600_000 },
        ],
        ...clock,
      }),
    })
    const started = virtual
    const result = await startAct(store, {
      tenantId: TENANT,
      actor: ACTOR,
      graph: clients.graph,
      defender,
      ...clock,
      selection: { all: true },
      policy: { optIn: ['defender.offboard'] },
      maxActions: 10_000,
      maxShare: 1,
    })
    const defenderRequests = sim.requests().filter((r) => r.path.startsWith('/api/'))
    expect(defenderRequests.filter((r) => r.status === 429)).toEqual([])
    expect(defenderRequests.length).toBeGreaterThan(limits.perHour)
    const calls = sim.calls().filter((c) => c.path.endsWith('/offboard'))
    // Over hours of virtual time the app token expires: a 401 is not processed, and the client signs in again.
    expect(new Set(calls.filter((c) => c.status >= 300).map((c) => c.status))).toEqual(new Set([401]))
    const posts = calls.filter((c) => c.status < 300)
    expect(new Set(posts.map((c) => c.path)).size).toBe(count)
    expect(posts).toHaveLength(count)
    expect(result.steps.filter((s) => s.system === 'defender' && s.state === 'done')).toHaveLength(count)
    // The hour window was what paced the act: it cannot have finished sooner than the limit allows.
    const hours = (virtual - started) / 3_600_000
    expect(hours).toBeGreaterThanOrEqual(Math.floor(defenderRequests.length / limits.perHour) - 1)
  }, 60_000)

  it('a crash at any durable point of an act with deletes, then --resume, makes every write exactly once', async () => {
    const optIn: OptInOperation[] = ['intune.delete', 'autopilot.deregister', 'defender.offboard']
    // 3 devices × 5 steps: planned + started + (sent + response) per batch + one per step + following.
    for (let n = 0; n < 34; n += 1) {
      const { act, writes, store, sim } = await setUp([1, 2, 3])
      let seen = 0
      const crash = () => {
        if (seen++ === n) throw new Error(`crash after ${n}`)
      }
      const first = await act(optIn, { onEvent: crash }).catch((e: Error) => e)
      if (first instanceof Error) {
        expect(first.message).toBe(`crash after ${n}`)
        const clients = clientsOf(sim)
        const resumed = await resumeAct(store, {
          tenantId: TENANT,
          actor: ACTOR,
          graph: clients.graph,
          defender: clients.defender,
          sleep: noSleep,
        })
        expect(resumed.counts, `crash after ${n}`).toEqual({ done: 15 })
      } else expect(first.counts).toEqual({ done: 15 })
      const ok = writes().filter((c) => c.status < 300)
      const perTarget = new Map<string, number>()
      for (const c of ok)
        perTarget.set(`${c.method} ${c.path}`, (perTarget.get(`${c.method} ${c.path}`) ?? 0) + 1)
      expect(perTarget.size, `crash after ${n}`).toBe(15)
      expect(
        [...perTarget.values()].every((v) => v === 1),
        `crash after ${n}`,
      ).toBe(true)
      for (const s of sims.splice(0)) await s.close()
      await backend.cleanup()
    }
  }, 120_000)

  describe('entra.delete', () => {
    const DAY = 86_400_000
    /** Records that an earlier act of offboard disabled device n's Entra object `daysAgo` days ago. */
    async function disabledByOffboard(store: Store, n: number, daysAgo: number) {
      const at = new Date(store.clock().getTime() - daysAgo * DAY)
      const runId = (await store.db.selectFrom('runs').select('id').executeTakeFirstOrThrow()).id
      await store.db
        .insertInto('acts')
        .values({
          id: `earlier-${n}`,
          tenant_id: TENANT,
          run_id: runId,
          actor: ACTOR,
          status: 'completed',
          selection: '{}',
          options: '{}',
          started_at: at,
        })
        .execute()
      await store.db
        .insertInto('action_steps')
        .values({
          act_id: `earlier-${n}`,
          tenant_id: TENANT,
          position: 1,
          suggestion_id: 'sg-old',
          system: 'entra',
          operation: 'disable',
          target: planFor(n)[1]!.target,
          target_name: null,
          state: 'done',
          created_at: at,
          updated_at: at,
        })
        .execute()
    }
    const disabled = {
      1: { accountEnabled: false },
      2: { accountEnabled: false },
      3: { accountEnabled: false },
    }

    it('deletes, once, only what offboard disabled past the grace period with keys exported; refuses the rest with the reason', async () => {
      const { act, store, sim, writes } = await setUp(
        [1, 2, 3],
        {},
        {},
        {},
        { entra: disabled, plan: (n) => [entraDeleteStep(n)] },
      )
      await disabledByOffboard(store, 1, 31)
      await disabledByOffboard(store, 2, 10)
      // Device 3 was disabled outside offboard: its disable time is unknown.
      const result = await act(['entra.delete'], { keysExported: true })
      const state = (n: number) => result.steps.find((s) => s.target === planFor(n)[1]!.target)!
      expect(state(1).state).toBe('done')
      expect(state(2).state).toBe('failed')
      expect(state(2).note).toMatch(/grace|eligible/i)
      expect(state(3).state).toBe('failed')
      expect(state(3).note).toMatch(/offboard/i)
      expect(writes().map((c) => `${c.method} ${c.path}`)).toEqual([
        `DELETE /v1.0/devices/${planFor(1)[1]!.target}`,
      ])
      expect(sim.data().devices.map((d) => (d as { id: string }).id)).not.toContain(planFor(1)[1]!.target)
      // The acknowledgement is kept with the act.
      const acts = await store.db
        .selectFrom('acts')
        .select('options')
        .where('id', 'not like', 'earlier-%')
        .execute()
      expect(acts[0]!.options).toMatchObject({ keysExported: true, entraDeleteGraceDays: 30 })
    })

    it('a delete that took effect just before a crash is done on resume, not "already gone"', async () => {
      const { act, store, sim, writes } = await setUp(
        [1],
        {},
        {},
        {},
        { entra: disabled, plan: (n) => [entraDeleteStep(n)] },
      )
      await disabledByOffboard(store, 1, 31)
      const crash = new Error('crash after the answer')
      const first = await act(['entra.delete'], {
        keysExported: true,
        onEvent: (e) => {
          if (e.type === 'response') throw crash
        },
      }).catch((e) => e)
      expect(first).toBe(crash)
      const resumed = await resumeAct(store, { tenantId: TENANT, actor: ACTOR, graph: clientsOf(sim).graph })
      expect(resumed.steps.map((s) => s.state)).toEqual(['done'])
      expect(writes().filter((c) => c.method === 'DELETE')).toHaveLength(1)
    })

    it('refuses without exported keys, and uses the policy grace period', async () => {
      const { act, store, writes } = await setUp(
        [1],
        {},
        {},
        {},
        { entra: disabled, plan: (n) => [entraDeleteStep(n)] },
      )
      await disabledByOffboard(store, 1, 10)
      const noKeys = await act(['entra.delete'], { entraDeleteGraceDays: 7 })
      expect(noKeys.steps[0]!.state).toBe('failed')
      expect(noKeys.steps[0]!.note).toContain('keys export')
      expect(writes()).toEqual([])
      const acknowledged = await act(['entra.delete'], { entraDeleteGraceDays: 7, keysExported: true })
      expect(acknowledged.steps[0]!.state).toBe('done')
    })
  })

  it('a later step of a device whose earlier step failed is not run', async () => {
    // A personal device's Intune record is never deleted (the plan retires those), so its Entra disable waits too.
    const { act, writes } = await setUp([1, 2], {}, { 1: { managedDeviceOwnerType: 'personal' } })
    const result = await act(['intune.delete'])
    // Steps are listed in plan order, so device 1's come first.
    const first = result.steps.filter((s) => s.suggestionId === result.steps[0]!.suggestionId)
    expect(first.map((s) => [s.system, s.state])).toEqual([
      ['intune', 'failed'],
      ['entra', 'skipped'],
    ])
    expect(first[0]!.note).toContain('retire it instead')
    expect(first[1]!.note).toBe('not run: an earlier step for this device failed')
    expect(result.counts).toEqual({ failed: 1, skipped: 1, done: 2 })
    expect(writes()).toHaveLength(2)
  })

  it('a second act makes no further changes', async () => {
    const { act, writes } = await setUp([1, 2])
    await act(['intune.delete', 'defender.offboard'])
    const first = writes().length
    expect(first).toBe(6)
    const second = await act(['intune.delete', 'defender.offboard'])
    expect(writes()).toHaveLength(first)
    expect(second.counts.done ?? 0).toBe(0)
    expect(second.counts.failed ?? 0).toBe(0)
  })
})
