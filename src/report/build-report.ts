/** @module Assembles the versioned report from the recommendations and the state of each source. */
import type { SourceName } from '../domain/device.js'
import { SOURCE_NAMES } from '../domain/device.js'
import type { Policy } from '../domain/policy.js'
import { REPORT_SCHEMA_VERSION, type Report, type SourceStatus } from '../domain/report.js'
import type { Recommendations } from '../plan/recommend.js'
import type { TenantData } from '../snapshot/read-snapshot.js'
import { SOURCES } from '../sources/index.js'
import { summarize } from './summary.js'

export interface ReportInput {
  data: TenantData
  /** Records read from each source (`data`'s lists may have been emptied since, see `analyze`'s `consume`). */
  recordCounts: Record<SourceName, number>
  now: number
  policy: Policy
  version: string
  deviceCount: number
  recommendations: Recommendations
  sourceWarnings: Partial<Record<SourceName, string>>
}

export function buildReport(input: ReportInput): Report {
  const { data, recommendations: rec, policy } = input
  const sources = {} as Report['sources']
  const warnings: string[] = []
  for (const name of SOURCE_NAMES) {
    const load = data[name]
    const def = SOURCES[name]
    const status: SourceStatus = { status: load.status, records: input.recordCounts[name] }
    const warning =
      input.sourceWarnings[name] ??
      (load.status === 'missing'
        ? `${def.title} is not connected (no ${def.collection}.json): its activity was not checked, and findings that need it are unknown.`
        : load.status === 'error'
          ? `${def.title} could not be read: ${load.error ?? 'unknown error'}. Devices are never flagged because of it.`
          : undefined)
    if (warning) {
      status.warning = warning
      warnings.push(warning)
    }
    sources[name] = status
  }
  const byCategory: Record<string, number> = {}
  for (const s of rec.suggestions) byCategory[s.category] = (byCategory[s.category] ?? 0) + 1
  const bySkipReason: Record<string, number> = {}
  for (const s of rec.skipped) bySkipReason[s.reason] = (bySkipReason[s.reason] ?? 0) + 1
  // The stale sentence quotes the window the stale rule used, which the policy may set for that rule alone.
  const staleOverride = policy.rules['stale-everywhere']?.staleAfterDays
  const staleDays = typeof staleOverride === 'number' ? staleOverride : policy.staleAfterDays
  const { text, factors } = summarize(rec.suggestions, rec.skipped, rec.undetermined.length, staleDays)
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generator: { name: 'offboard', version: input.version },
    asOf: new Date(input.now).toISOString(),
    tenantId: data.tenantId,
    sources,
    // Every exclusion counts, by field or by enrollment date.
    policy: {
      staleAfterDays: policy.staleAfterDays,
      excludeRules: policy.exclude.length + policy.excludeEnrolled.length,
    },
    summary: {
      text,
      factors,
      warnings,
      counts: {
        devices: input.deviceCount,
        suggestions: rec.suggestions.length,
        byCategory,
        skipped: rec.skipped.length,
        bySkipReason,
        undetermined: rec.undetermined.length,
        actions: rec.suggestions.reduce((n, s) => n + s.actions.length, 0),
      },
    },
    suggestions: rec.suggestions,
    skipped: rec.skipped,
    undetermined: rec.undetermined,
  }
}
