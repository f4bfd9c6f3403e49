/** @module The engine end to end: correlate, assess sources, evaluate, recommend, report. Pure: the caller supplies `now`. */
import { correlate } from './correlate/correlate.js'
import { DEFAULT_POLICY, type Policy } from './domain/policy.js'
import type { Report } from './domain/report.js'
import { evaluateTenant } from './evaluate/evaluate.js'
import { recommend } from './plan/recommend.js'
import { buildReport } from './report/build-report.js'
import type { TenantData } from './snapshot/read-snapshot.js'
import { VERSION } from './version.js'

export interface AnalyzeOptions {
  /** Evaluation instant (epoch ms). */
  now: number
  policy?: Policy
}

export function analyze(data: TenantData, opts: AnalyzeOptions): Report {
  const policy = opts.policy ?? DEFAULT_POLICY
  const { assessment, devices, notable } = evaluateTenant(data, correlate(data), { now: opts.now, policy })
  const recommendations = recommend(notable, { now: opts.now, policy })
  return buildReport({
    data,
    now: opts.now,
    policy,
    version: VERSION,
    deviceCount: devices,
    recommendations,
    sourceWarnings: assessment.warnings,
  })
}
