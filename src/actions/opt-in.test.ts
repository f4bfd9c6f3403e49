/**
 * @module Opt-in operations on the simulator: Intune delete and Defender offboard run only when the tenant policy's
 * `optIn` list enables them, each call once, in the device's plan order; a second act makes no further changes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { addUser } from '../agent/roles.js'
import { completeRun, startRun } from '../agent/runs.js'
import { fakeReport, fakeSuggestion } from '../agent/test-fixtures.js'
import { clientsFor } from '../cli/tenant.js'
import type { Action } from '../domain/action.js'
import type { OptInOperation } from '../domain/policy.js'
import { Report } from '../domain/report.js'
import { LoopbackClientCredentials } from '../lib/loopback-credentials.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { machine, managedDevice } from '../simulator/test-support.js'
import type { Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import { MANUAL_OFFBOARD } from './defender-offboard.js'
import { startAct } from './executor.js'
import { ACTOR, planFor, simulatorData, TENANT } from './test-support.js'

const noSleep = async () => {}
const WRITES = new Set(['POST', 'PATCH', 'DELETE'])
const machineId = (n: number) => n.toString(16).padStart(40, 'c')

/** The Defender offboard step a plan carries for machine `n` (opt-in, reference §4.4). */
function offboardStep(n: number): Action {
  return {
    step: 4,
    system: 'defender',
    operation: 'offboard',
    target: machineId(n),
    targetName: `pc-${n}.contoso.com`,
    automation: 'optIn',
    instructions: 'Offboard the machine from Defender for Endpoint.',
    prerequisites: [],
    warnings: [],
    request: { api: 'defender', method: 'POST', path: `/api/machines/${machineId(n)}/offboard` },
  }
}

/** A completed run whose suggestions carry the given plans (device n: {@link planFor} plus its offboard step). */
async function seed(store: Store, devices: readonly number[]): Promise<void> {
  await addUser(store, ACTOR, ACTOR, 'admin')
  const base = fakeReport(TENANT, [])
  const suggestions = devices.map((n) => ({
    ...fakeSuggestion({ device: n, category: 'stale' }),
    actions: [...planFor(n), offboardStep(n)],
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
  ) {
    const store = await backend.create()
    await seed(store, devices)
    const sim = await startSimulator({
      data: {
        ...simulatorData(devices.length),
        managedDevices: devices.map((n) => managedDevice(n, intune[n] ?? {})),
        machines: devices.map((n) => machine(n, machines[n] ?? {})),
      },
    })
    sims.push(sim)
    const tokens = new LoopbackClientCredentials(
      sim.authorityHost,
      sim.tenantId,
      'offboard-sim',
      'offboard-sim-secret',
    )
    const clients = clientsFor({ graph: sim.graphBaseUrl, defender: sim.defenderBaseUrl }, tokens, {
      baseBackoffMs: 5,
      maxAttempts: 8,
    })
    const act = (optIn: OptInOperation[]) =>
      startAct(store, {
        tenantId: TENANT,
        actor: ACTOR,
        graph: clients.graph,
        defender: clients.defender,
        sleep: noSleep,
        selection: { all: true },
        policy: { optIn },
      })
    const writes = () => sim.calls().filter((c) => WRITES.has(c.method) && !c.path.endsWith('/$batch'))
    return { sim, act, writes }
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

  it('defender.offboard POSTs once per machine with a Comment; a non-Windows machine fails with the manual way', async () => {
    const { act, writes } = await setUp([1, 2], { 2: { osPlatform: 'Linux' } })
    const result = await act(['defender.offboard'])
    const posts = writes().filter((c) => c.path.endsWith('/offboard'))
    expect(posts.map((c) => c.path).sort()).toEqual(
      [1, 2].map((n) => `/api/machines/${machineId(n)}/offboard`),
    )
    for (const p of posts) expect((p.body as { Comment?: unknown }).Comment).toEqual(expect.any(String))
    const done = result.steps.find((s) => s.target === machineId(1))!
    expect(done.state).toBe('done')
    expect((done.after as { machineActionId?: unknown }).machineActionId).toEqual(expect.any(String))
    const failed = result.steps.find((s) => s.target === machineId(2))!
    expect(failed.state).toBe('failed')
    expect(failed.note).toContain('OsPlatformNotSupported')
    expect(failed.note).toContain(MANUAL_OFFBOARD)
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
