/** @module The engine end to end: correlate, assess sources, evaluate, recommend, report. Pure: the caller supplies `now`. */
import { correlate } from './correlate/correlate.js'
import { SOURCE_NAMES, type SourceName } from './domain/device.js'
import { DEFAULT_POLICY, type Policy } from './domain/policy.js'
import type { Report } from './domain/report.js'
import { evaluateTenant } from './evaluate/evaluate.js'
import { collectGarbageIfLarge, withShortLivedObjects } from './lib/memory.js'
import { recommend } from './plan/recommend.js'
import { buildReport } from './report/build-report.js'
import type { TenantData } from './snapshot/read-snapshot.js'
import { VERSION } from './version.js'

export interface AnalyzeOptions {
  /** Evaluation instant (epoch ms). */
  now: number
  policy?: Policy
  /**
   * The caller hands `data` over and will not read its records again: once every device is evaluated, the records
   * lists are emptied and the correlation keeps only the records of the devices the report names, each let go once
   * its entry is built. At a million devices the records are about a gigabyte, and holding all of them beside the
   * finished report made the end of the engine the run's peak of memory.
   */
  consume?: boolean
}

export function analyze(data: TenantData, opts: AnalyzeOptions): Report {
  // Most of what the engine makes dies young: a view and its evaluation per device (see withShortLivedObjects). The
  // report's entries do live on, but they come last and V8 copies each only once or twice.
  return withShortLivedObjects(() => {
    const policy = opts.policy ?? DEFAULT_POLICY
    // What reading the tenant left behind (page texts, parsed pages) is garbage: collect it before the index is built.
    if (opts.consume) collectGarbageIfLarge()
    const correlation = correlate(data)
    const { assessment, devices, notable } = evaluateTenant(data, correlation, {
      now: opts.now,
      policy,
      consume: opts.consume,
    })
    const recordCounts = {} as Record<SourceName, number>
    for (const name of SOURCE_NAMES) {
      recordCounts[name] = data[name].records.length
      // The correlation holds the records of the devices the report names, until their entries are built.
      if (opts.consume) data[name].records = []
    }
    // Most of the tenant's records are garbage now (the devices the report does not name): collected here, their
    // space is reused by the report (1M devices: 1.1 GB in use → 0.5 GB). Not compacted, as it was: moving what
    // survives (0.49 GB) takes new pages before the old ones go, and that made the run's peak of memory (up to
    // 2.13 GB resident, above 2 GiB in two runs of six); without it the report fills the freed space and the engine
    // ends at 1.8 GB.
    if (opts.consume) collectGarbageIfLarge()
    const recommendations = recommend(notable(), { now: opts.now, policy })
    return buildReport({
      data,
      recordCounts,
      now: opts.now,
      policy,
      version: VERSION,
      deviceCount: devices,
      recommendations,
      sourceWarnings: assessment.warnings,
    })
  })
}
