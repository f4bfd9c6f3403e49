/** @module Fixtures for the action tests: a tenant whose current suggestions carry Entra disable plans, and its simulator. */
import { addUser } from '../agent/roles.js'
import { completeRun, startRun } from '../agent/runs.js'
import { fakeReport, fakeSuggestion } from '../agent/test-fixtures.js'
import { clientsFor } from '../cli/tenant.js'
import type { Action } from '../domain/action.js'
import { Report } from '../domain/report.js'
import type { ApiClient } from '../lib/graph-client.js'
import { LoopbackClientCredentials } from '../lib/loopback-credentials.js'
import type { Simulator, SimulatorData } from '../simulator/index.js'
import { entraDevice, guid, machineId } from '../simulator/test-support.js'
import type { LiveClients } from '../sources/read-live.js'
import type { Store } from '../store/store.js'

export const TENANT = '11111111-2222-4333-8444-555555555555'
export const ACTOR = 'alice'

export const entraObjectId = (n: number) => guid(n, 'e0000000')

/** The ordered plan a suggestion carries: an opt-in Intune delete, the Entra disable offboard runs, a manual step. */
export function planFor(n: number): Action[] {
  const id = entraObjectId(n)
  return [
    {
      step: 1,
      system: 'intune',
      operation: 'delete',
      target: guid(n, 'a0000000'),
      targetName: `PC-${n}`,
      automation: 'optIn',
      instructions: 'Delete the Intune record.',
      prerequisites: [],
      warnings: [],
      request: {
        api: 'graph',
        method: 'DELETE',
        path: `/deviceManagement/managedDevices/${guid(n, 'a0000000')}`,
      },
    },
    {
      step: 2,
      system: 'entra',
      operation: 'disable',
      target: id,
      targetName: `PC-${n}`,
      automation: 'agent',
      instructions: 'Disable the Entra device object.',
      prerequisites: [],
      warnings: [],
      request: { api: 'graph', method: 'PATCH', path: `/devices/${id}`, body: { accountEnabled: false } },
    },
    {
      step: 3,
      system: 'activeDirectory',
      operation: 'delete',
      target: `CN=PC-${n}`,
      targetName: `PC-${n}`,
      automation: 'manual',
      instructions: 'Remove the computer object from on-premises AD.',
      prerequisites: [],
      warnings: [],
      request: null,
    },
  ]
}

/** The Defender offboard step a plan carries for machine `n` (opt-in, reference §4.4). */
export function offboardStep(n: number): Action {
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

/** Devices 1..count in the simulator (with optional overrides), and suggestions for `suggested` of them. */
export function simulatorData(
  count: number,
  extra: Record<number, Record<string, unknown>> = {},
): SimulatorData {
  const range = Array.from({ length: count }, (_, i) => i + 1)
  return {
    managedDevices: [],
    devices: range.map((n) => entraDevice(n, extra[n] ?? {})),
    windowsAutopilotDeviceIdentities: [],
    machines: [],
    meta: { tenantId: TENANT },
  }
}

/**
 * Stores a completed run for TENANT whose suggestions are the given devices (each with {@link planFor}), with
 * `fleet` devices in the run so the share brake can be exercised; makes ACTOR an administrator.
 */
export async function seedTenant(
  store: Store,
  devices: readonly number[],
  fleet = 1_000,
  plan: (n: number) => Action[] = planFor,
): Promise<void> {
  await addUser(store, ACTOR, ACTOR, 'admin')
  const base = fakeReport(TENANT, [])
  const suggestions = devices.map((n) => ({
    ...fakeSuggestion({ device: n, category: n % 2 ? 'stale' : 'duplicate' }),
    actions: plan(n),
  }))
  const report = Report.parse({
    ...base,
    summary: {
      ...base.summary,
      counts: { ...base.summary.counts, devices: fleet, suggestions: suggestions.length },
    },
    suggestions,
  })
  const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: ACTOR })
  await completeRun(store, run.id, report)
}

/** The Graph and Defender clients of the simulator's app, with short test backoffs. */
export function clientsOf(sim: Simulator): LiveClients {
  const tokens = new LoopbackClientCredentials(
    sim.authorityHost,
    sim.tenantId,
    'offboard-sim',
    'offboard-sim-secret',
  )
  return clientsFor({ graph: sim.graphBaseUrl, defender: sim.defenderBaseUrl }, tokens, {
    baseBackoffMs: 5,
    maxAttempts: 8,
  })
}

export function graphOf(sim: Simulator): ApiClient {
  return clientsOf(sim).graph
}

/** Successful PATCHes per device path in the simulator's call record. */
export function patchesByTarget(sim: Simulator): Map<string, number> {
  const out = new Map<string, number>()
  for (const c of sim.calls())
    if (c.method === 'PATCH' && c.status < 300) out.set(c.path, (out.get(c.path) ?? 0) + 1)
  return out
}
