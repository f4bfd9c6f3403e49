/** @module What counts as activity (decisions.md): one timestamp per record, unknown when blank, and the in-use test. */
import type { AnyRecord, DeviceView, SourceName } from '../domain/device.js'
import type { Evidence } from '../domain/report.js'
import { lowerCaseIn } from '../domain/text.js'
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
const CONTACTED_STATES = ['enrolled', 'pendingreset', 'failed']

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
      if (record.lastContactedDateTime === null && !lowerCaseIn(record.enrollmentState, CONTACTED_STATES))
        return undefined
      return { record, source: 'autopilot', field: 'lastContactedDateTime', ms: record.lastContactedDateTime }
    }
  }
}

/** Observations for a set of records. */
export function observeAll(records: readonly AnyRecord[]): Observation[] {
  return observeInto([], records)
}

/** Every record of the view, observed (Intune, Autopilot, Entra, Defender: the order of `recordsOf`). */
export function observeView(view: DeviceView): Observation[] {
  const out: Observation[] = []
  observeInto(out, view.intune)
  observeInto(out, view.autopilot)
  observeInto(out, view.entra)
  return observeInto(out, view.defender)
}

/** Indexed loops, no spread copies or iterators: the rules observe every device several times. */
function observeInto(out: Observation[], records: readonly AnyRecord[]): Observation[] {
  for (let i = 0; i < records.length; i++) {
    const o = observe(records[i]!)
    if (o) out.push(o)
  }
  return out
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

/**
 * Shared by every summary with nothing in a category (most devices have no stale and no unknown record); frozen,
 * so that no caller can add to every summary at once.
 */
const NONE: Observation[] = Object.freeze([]) as unknown as Observation[]

export function summarize(observations: Observation[], now: number, windowDays: number): ActivitySummary {
  let active: Observation[] | null = null
  let stale: Observation[] | null = null
  let unknown: Observation[] | null = null
  for (const o of observations) {
    if (o.ms === null) {
      unknown ??= []
      unknown.push(o)
    } else if (isActive(o, now, windowDays)) {
      active ??= []
      active.push(o)
    } else {
      stale ??= []
      stale.push(o)
    }
  }
  return {
    active: active ?? NONE,
    stale: stale ?? NONE,
    unknown: unknown ?? NONE,
    newest: newestObservation(observations),
  }
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
