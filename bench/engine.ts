/**
 * @module The engine-alone benchmark, run as its own process: read a cached demo snapshot into memory (not timed),
 * then time correlate + evaluate, and the whole engine (`analyze`: + recommend and the report) on it.
 * Input: BENCH_ENGINE (JSON); output: one JSON line.
 */
import { z } from 'zod'
import { analyze } from '../src/analyze.js'
import { correlate } from '../src/correlate/correlate.js'
import { DEFAULT_POLICY } from '../src/domain/policy.js'
import { evaluateTenant } from '../src/evaluate/evaluate.js'
import { withShortLivedObjects } from '../src/lib/memory.js'
import { readSnapshot, type TenantData } from '../src/snapshot/read-snapshot.js'

const EngineInput = z.object({ snapshotDir: z.string(), now: z.number() })
export type EngineInput = z.infer<typeof EngineInput>

export interface EngineOutput {
  devices: number
  records: number
  /**
   * correlate + evaluateTenant (assess the sources, evaluate every device, build the evaluations of the devices the
   * report names): what the issue calls "the engine alone".
   */
  correlateEvaluateMs: number
  /** Building the device index; the views themselves are built during evaluation, one at a time. */
  correlateMs: number
  /** The whole of `analyze`: correlate, evaluate, recommend, build the report. */
  analyzeMs: number
  /** Devices the report names (out of scope, flagged or undetermined). */
  notable: number
  suggestions: number
  maxRssKb: number
}

/**
 * Correlate + evaluate, the figure the target is about; returns only numbers so its results can be collected. Run as
 * `analyze` runs them: with V8 told that what they make dies young.
 */
function correlateAndEvaluate(data: TenantData, now: number) {
  return withShortLivedObjects(() => correlateAndEvaluateNow(data, now))
}

function correlateAndEvaluateNow(data: TenantData, now: number) {
  const policy = DEFAULT_POLICY
  const t = performance.now()
  const correlation = correlate(data)
  const correlateMs = performance.now() - t
  const { devices, notable } = evaluateTenant(data, correlation, { now, policy })
  // The evaluations of the devices a report names are built as they are read, each finding's detail (message,
  // evidence, targets) with them: read them all.
  let notableCount = 0
  for (const _ of notable()) notableCount++
  return { devices, notable: notableCount, correlateMs, correlateEvaluateMs: performance.now() - t }
}

async function main(): Promise<void> {
  const input = EngineInput.parse(JSON.parse(process.env.BENCH_ENGINE ?? 'null'))
  const data = await readSnapshot(input.snapshotDir)
  const records =
    data.intune.records.length +
    data.entra.records.length +
    data.autopilot.records.length +
    data.defender.records.length
  const policy = DEFAULT_POLICY
  const first = correlateAndEvaluate(data, input.now)
  // Then the whole engine, as `offboard run` calls it (the first pass's results are garbage by now).
  const t = performance.now()
  const report = analyze(data, { now: input.now, policy })
  const analyzeMs = performance.now() - t
  const out: EngineOutput = {
    ...first,
    records,
    analyzeMs,
    suggestions: report.suggestions.length,
    maxRssKb: process.resourceUsage().maxRSS,
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

await main()
