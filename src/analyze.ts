/** @module The engine end to end: correlate, assess sources, evaluate, recommend, report. Pure: the caller supplies `now`. */
import { correlate } from './correlate/correlate.js'
import { DEFAULT_POLICY, type Policy } from './domain/policy.js'
import type { Report } from './domain/report.js'
import { assessSources } from './evaluate/brakes.js'
import { evaluateViews } from './evaluate/evaluate.js'
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
  const { views } = correlate(data)
  const assessment = assessSources(data, views, policy)
  const evaluations = evaluateViews(views, { now: opts.now, policy, sources: assessment.states })
  const recommendations = recommend(evaluations, { now: opts.now, policy })
  return buildReport({
    data,
    now: opts.now,
    policy,
    version: VERSION,
    deviceCount: views.length,
    recommendations,
    sourceWarnings: assessment.warnings,
  })
}
