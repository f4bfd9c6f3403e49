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
import { ENTRA_WRITE_LIMITS, entraDisableHandler } from '../src/actions/entra-disable.js'
import { startAct } from '../src/actions/executor.js'
import { HandlerRegistry } from '../src/actions/handler.js'
import {
  ACTOR,
  entraObjectId,
  graphOf,
  seedTenant,
  simulatorData,
  TENANT,
} from '../src/actions/test-support.js'
import { RateLimiter, type RateWindow } from '../src/lib/rate-limiter.js'
import { startSimulator } from '../src/simulator/index.js'
import { storeOnPGlite } from '../src/store/store.js'

const ActionsInput = z.object({ devices: z.number().int().positive(), timeScale: z.number().positive() })
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

async function main(): Promise<void> {
  const input = ActionsInput.parse(JSON.parse(process.env.BENCH_ACTIONS ?? 'null'))
  const k = input.timeScale
  const origin = Date.now()
  // Virtual time runs k× faster than the wall clock; both sides of the limit see the same virtual time.
  const now = (): number => origin + (Date.now() - origin) * k
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms / k))
  const sim = await startSimulator({ data: simulatorData(input.devices), clock: now })
  const store = await storeOnPGlite(new PGlite())
  try {
    const devices = Array.from({ length: input.devices }, (_, i) => i + 1)
    await seedTenant(store, devices, input.devices)
    const registry = new HandlerRegistry([
      entraDisableHandler({ writeLimiter: new RateLimiter({ windows: ENTRA_WRITE_LIMITS, now, sleep }) }),
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
    const ok = writes.filter((c) => c.status < 300)
    const perTarget = new Map<string, number>()
    for (const c of ok) perTarget.set(c.path, (perTarget.get(c.path) ?? 0) + 1)
    const planned = new Set(devices.map((n) => `/v1.0/devices/${entraObjectId(n)}`))
    const lost = [...planned].filter((p) => !perTarget.has(p)).length
    const repeated = [...perTarget.values()].filter((n) => n > 1).length
    const times = writes.map((c) => Date.parse(c.at)).sort((a, b) => a - b)
    const virtualMs = times.length > 1 ? times[times.length - 1]! - times[0]! : 0
    const ideal = idealSchedule(writes.length, ENTRA_WRITE_LIMITS)
    const idealMs = ideal.length ? ideal[ideal.length - 1]! : 0
    const out: ActionsOutput = {
      operation: 'entra.disable ($batch)',
      planned: planned.size,
      succeeded: perTarget.size,
      lost,
      repeated,
      throttled429: sim.calls().filter((c) => c.status === 429).length,
      violations: countViolations(times, ENTRA_WRITE_LIMITS),
      virtualSeconds: virtualMs / 1000,
      idealSeconds: idealMs / 1000,
      shareOfAllowedRate: virtualMs > 0 ? idealMs / virtualMs : 1,
      wallMs,
      limit: ENTRA_WRITE_LIMITS.map((w) => `${w.limit} per ${w.ms / 1000} s`).join(', '),
    }
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
