/** @module What counts as activity (decisions.md): one timestamp per record, unknown when blank, and the in-use test. */
import type { AnyRecord, DeviceView, SourceName } from '../domain/device.js'
import type { Evidence } from '../domain/report.js'
import { DAY_MS, daysBetween, isoOrNull } from '../domain/time.js'

/** One record's last-activity timestamp. */
export interface Observation {
  record: AnyRecord
  source: SourceName
  field: string
  /** Epoch ms, or null when the source has no usable value. */
  ms: number | null
}

/** Autopilot states in which `lastContactedDateTime` means anything; a never-deployed identity has no activity to read. */
const CONTACTED_STATES = new Set(['enrolled', 'pendingreset', 'failed'])

/** The activity timestamp of a record, or undefined when the record carries none by nature (an undeployed Autopilot identity). */
export function observe(record: AnyRecord): Observation | undefined {
  switch (record.source) {
    case 'entra':
      return {
        record,
        source: 'entra',
        field: 'approximateLastSignInDateTime',
        ms: record.approximateLastSignInDateTime,
      }
    case 'intune':
      return { record, source: 'intune', field: 'lastSyncDateTime', ms: record.lastSyncDateTime }
    case 'defender':
      return { record, source: 'defender', field: 'lastSeen', ms: record.lastSeen }
    case 'autopilot': {
      const state = record.enrollmentState?.toLowerCase() ?? ''
      if (!CONTACTED_STATES.has(state) && record.lastContactedDateTime === null) return undefined
      return { record, source: 'autopilot', field: 'lastContactedDateTime', ms: record.lastContactedDateTime }
    }
  }
}

/** Observations for a set of records. */
export function observeAll(records: Iterable<AnyRecord>): Observation[] {
  const out: Observation[] = []
  for (const r of records) {
    const o = observe(r)
    if (o) out.push(o)
  }
  return out
}

/** Every record of the view, observed. */
export function observeView(view: DeviceView): Observation[] {
  return observeAll([...view.intune, ...view.autopilot, ...view.entra, ...view.defender])
}

export function ageDays(o: Observation, now: number): number | null {
  return o.ms === null ? null : daysBetween(o.ms, now)
}

/** Seen within the window (a timestamp in the future counts as seen). */
export function isActive(o: Observation, now: number, windowDays: number): boolean {
  return o.ms !== null && daysBetween(o.ms, now) <= windowDays
}

/** The overall picture of a set of observations against a window. */
export interface ActivitySummary {
  active: Observation[]
  stale: Observation[]
  unknown: Observation[]
  /** The most recent known observation. */
  newest: Observation | null
}

/** The most recent observation with a known timestamp, or null. */
export function newestObservation(observations: Observation[]): Observation | null {
  let newest: Observation | null = null
  for (const o of observations) if (o.ms !== null && (newest === null || o.ms > newest.ms!)) newest = o
  return newest
}

export function summarize(observations: Observation[], now: number, windowDays: number): ActivitySummary {
  const s: ActivitySummary = { active: [], stale: [], unknown: [], newest: null }
  for (const o of observations) {
    if (o.ms === null) s.unknown.push(o)
    else if (isActive(o, now, windowDays)) s.active.push(o)
    else s.stale.push(o)
  }
  s.newest = newestObservation(observations)
  return s
}

/** Evidence entry for an observation. */
export function evidenceOf(o: Observation): Evidence {
  return { source: o.source, recordId: o.record.id, field: o.field, value: isoOrNull(o.ms) }
}

const SOURCE_TITLE: Record<SourceName, string> = {
  intune: 'Intune check-in',
  entra: 'Entra sign-in',
  autopilot: 'Autopilot contact',
  defender: 'Defender report',
}

/** "Entra sign-in 120 days ago (2026-07-04)". */
export function describeObservation(o: Observation, now: number): string {
  if (o.ms === null) return `${SOURCE_TITLE[o.source]} unknown (${o.field} is blank)`
  const days = daysBetween(o.ms, now)
  const when = days <= 0 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`
  return `${SOURCE_TITLE[o.source]} ${when} (${dayText(o.ms)})`
}

/**
 * `YYYY-MM-DD` of an instant, remembered per UTC day: a tenant's timestamps fall on a few thousand days, and
 * formatting a Date for every observation of a million devices showed up in profiles.
 */
const DAY_TEXT = new Map<number, string>()
const DAY_TEXT_LIMIT = 100_000
function dayText(ms: number): string {
  const day = Math.floor(ms / DAY_MS)
  let text = DAY_TEXT.get(day)
  if (text === undefined) {
    text = new Date(ms).toISOString().slice(0, 10)
    if (DAY_TEXT.size < DAY_TEXT_LIMIT) DAY_TEXT.set(day, text)
  }
  return text
}

/** Human list: "a, b and c". */
export function listJoin(items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}
