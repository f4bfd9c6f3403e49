/**
 * @module The action benchmark, run as its own process: Entra disables through `$batch` by the real executor
 * (`startAct`, as `offboard act --confirm` runs it) against the simulator, on a compressed clock (time scale k: the
 * client's rate limiter and the simulator see k× faster time), so 3,000 writes per 150 s is exercised in seconds.
 * Checks from the simulator's call record: limit violations (a sliding-window count), 429s, lost and repeated
 * writes, and the achieved rate as a share of the allowed one (the fastest schedule the limit allows ÷ the actual).
 * Input: BENCH_ACTIONS (JSON); output: one JSON line.
 */
import { PGlite } from '@electric-sql/pglite'
import { z } from 'zod'
import { defenderOffboardHandler } from '../src/actions/defender-offboard.js'
import { ENTRA_WRITE_LIMITS, entraDisableHandler, entraWriteLimiter } from '../src/actions/entra-disable.js'
import { startAct } from '../src/actions/executor.js'
import { HandlerRegistry } from '../src/actions/handler.js'
import {
  ACTOR,
  clientsOf,
  entraObjectId,
  graphOf,
  offboardStep,
  seedTenant,
  simulatorData,
  TENANT,
} from '../src/actions/test-support.js'
import { DEFENDER_LIMITS, defenderLimiter } from '../src/cli/tenant.js'
import { ApiClient } from '../src/lib/graph-client.js'
import type { RateWindow } from '../src/lib/rate-limiter.js'
import { startSimulator } from '../src/simulator/index.js'
import { machine, machineId } from '../src/simulator/test-support.js'
import { storeOnPGlite } from '../src/store/store.js'

const ActionsInput = z.object({
  devices: z.number().int().positive(),
  timeScale: z.number().positive(),
  operation: z.enum(['entra.disable', 'defender.offboard']).default('entra.disable'),
})
export type ActionsInput = z.infer<typeof ActionsInput>

export interface ActionsOutput {
  operation: string
  planned: number
  /** Writes that reached the simulator and succeeded, once per target. */
  succeeded: number
  lost: number
  repeated: number
  throttled429: number
  violations: number
  /** Virtual (uncompressed) seconds from the first write to the last. */
  virtualSeconds: number
  /** The fastest the limit allows for this many writes, in virtual seconds. */
  idealSeconds: number
  /** ideal ÷ actual: 1 is the full allowed rate. */
  shareOfAllowedRate: number
  wallMs: number
  limit: string
}

/** The earliest time of each of n calls when every window is used to the full, starting at 0. */
export function idealSchedule(n: number, windows: readonly RateWindow[]): number[] {
  const at: number[] = []
  for (let i = 0; i < n; i++) {
    let t = i === 0 ? 0 : at[i - 1]!
    for (const w of windows) if (i >= w.limit) t = Math.max(t, at[i - w.limit]! + w.ms)
    at.push(t)
  }
  return at
}

/** Calls that broke a window: the (limit+1)-th call inside any window length. Input sorted ascending. */
export function countViolations(times: readonly number[], windows: readonly RateWindow[]): number {
  let violations = 0
  for (const w of windows)
    for (let i = w.limit; i < times.length; i++) if (times[i]! - times[i - w.limit]! < w.ms) violations++
  return violations
}

/** Success per planned target, and how far the calls' arrival times kept to the windows. */
function measure(
  operation: string,
  planned: ReadonlySet<string>,
  succeededPaths: readonly string[],
  arrivals: number[],
  windows: readonly RateWindow[],
  throttled429: number,
  wallMs: number,
): ActionsOutput {
  const perTarget = new Map<string, number>()
  for (const p of succeededPaths) perTarget.set(p, (perTarget.get(p) ?? 0) + 1)
  const times = [...arrivals].sort((a, b) => a - b)
  const virtualMs = times.length > 1 ? times[times.length - 1]! - times[0]! : 0
  const ideal = idealSchedule(times.length, windows)
  const idealMs = ideal.length ? ideal[ideal.length - 1]! : 0
  return {
    operation,
    planned: planned.size,
    succeeded: [...perTarget.keys()].filter((p) => planned.has(p)).length,
    lost: [...planned].filter((p) => !perTarget.has(p)).length,
    repeated: [...perTarget.values()].filter((n) => n > 1).length,
    throttled429,
    violations: countViolations(times, windows),
    virtualSeconds: virtualMs / 1000,
    idealSeconds: idealMs / 1000,
    shareOfAllowedRate: virtualMs > 0 ? idealMs / virtualMs : 1,
    wallMs,
    limit: windows.map((w) => `${w.limit} per ${w.ms / 1000} s`).join(', '),
  }
}

/**
 * Defender offboards by the real executor and handler (bulk reads, POST, MachineAction follow-up) against the
 * simulator's 100/min and 1,500/h, on the compressed clock. Every Defender call counts against the limit, reads
 * included, so the figures are over all of them.
 */
async function defenderOffboards(
  input: ActionsInput,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
) {
  const devices = Array.from({ length: input.devices }, (_, i) => i + 1)
  const sim = await startSimulator({
    data: { ...simulatorData(input.devices), machines: devices.map((n) => machine(n)) },
    clock: now,
    machineActionDelayMs: 0,
  })
  const store = await storeOnPGlite(new PGlite())
  try {
    await seedTenant(store, devices, input.devices, (n) => [offboardStep(n)])
    const clients = clientsOf(sim)
    const defender = new ApiClient({
      ...clients.defender.opts,
      sleep,
      limiter: defenderLimiter({ now, sleep }),
    })
    const started = performance.now()
    await startAct(store, {
      tenantId: TENANT,
      actor: ACTOR,
      graph: clients.graph,
      defender,
      registry: new HandlerRegistry([defenderOffboardHandler()]),
      sleep,
      now,
      selection: { all: true },
      policy: { optIn: ['defender.offboard'] },
      maxActions: input.devices,
      maxShare: 1,
    })
    const wallMs = performance.now() - started
    const calls = sim.requests().filter((r) => r.path.startsWith('/api/'))
    const posts = sim.calls().filter((c) => c.path.endsWith('/offboard') && c.status < 300)
    return measure(
      'defender.offboard',
      new Set(devices.map((n) => `/api/machines/${machineId(n)}/offboard`)),
      posts.map((c) => c.path),
      // A 401 (the app token expiring over virtual hours) is answered before the limit counts the call.
      calls.filter((c) => c.status !== 401).map((c) => Date.parse(c.at ?? '')),
      DEFENDER_LIMITS,
      calls.filter((c) => c.status === 429).length,
      wallMs,
    )
  } finally {
    await store.close()
    await sim.close()
  }
}

async function main(): Promise<void> {
  const input = ActionsInput.parse(JSON.parse(process.env.BENCH_ACTIONS ?? 'null'))
  const k = input.timeScale
  const origin = Date.now()
  // Virtual time runs k× faster than the wall clock; both sides of the limit see the same virtual time.
  const now = (): number => origin + (Date.now() - origin) * k
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms / k))
  if (input.operation === 'defender.offboard') {
    process.stdout.write(`${JSON.stringify(await defenderOffboards(input, now, sleep))}\n`)
    return
  }
  const sim = await startSimulator({ data: simulatorData(input.devices), clock: now })
  const store = await storeOnPGlite(new PGlite())
  try {
    const devices = Array.from({ length: input.devices }, (_, i) => i + 1)
    await seedTenant(store, devices, input.devices)
    const registry = new HandlerRegistry([
      entraDisableHandler({ writeLimiter: entraWriteLimiter({ now, sleep }) }),
    ])
    const started = performance.now()
    await startAct(store, {
      tenantId: TENANT,
      actor: ACTOR,
      graph: graphOf(sim),
      registry,
      sleep,
      selection: { all: true },
      maxActions: input.devices,
      maxShare: 1,
    })
    const wallMs = performance.now() - started
    const writes = sim.calls().filter((c) => c.method === 'PATCH')
    const out = measure(
      'entra.disable ($batch)',
      new Set(devices.map((n) => `/v1.0/devices/${entraObjectId(n)}`)),
      writes.filter((c) => c.status < 300).map((c) => c.path),
      writes.map((c) => Date.parse(c.at)),
      ENTRA_WRITE_LIMITS,
      sim.calls().filter((c) => c.status === 429).length,
      wallMs,
    )
    process.stdout.write(`${JSON.stringify(out)}\n`)
  } finally {
    await store.close()
    await sim.close()
  }
}

if (process.env.BENCH_ACTIONS) {
  await main().catch((err: Error & { code?: string }) => {
    process.stderr.write(`error: ${err.message}${err.code ? ` (${err.code})` : ''}\n${err.stack ?? ''}\n`)
    process.exitCode = 1
  })
}
