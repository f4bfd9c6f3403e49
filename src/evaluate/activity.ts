/** @module What counts as activity (decisions.md): one timestamp per record, unknown when blank, and the in-use test. */
import type { AnyRecord, DeviceView, SourceName } from '../domain/device.js'
import type { Evidence } from '../domain/report.js'
import { lowerCaseIn } from '../domain/text.js'
import { daysBetween, dayText, isoOrNull } from '../domain/time.js'

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
  const out = new Array<Observation>(records.length)
  return cut(out, observeInto(out, 0, records))
}

/** Every record of the view, observed (Intune, Autopilot, Entra, Defender: the order of `recordsOf`). */
export function observeView(view: DeviceView): Observation[] {
  const out = new Array<Observation>(
    view.intune.length + view.autopilot.length + view.entra.length + view.defender.length,
  )
  let n = observeInto(out, 0, view.intune)
  n = observeInto(out, n, view.autopilot)
  n = observeInto(out, n, view.entra)
  return cut(out, observeInto(out, n, view.defender))
}

/** `out` cut to `n` entries; setting `length` costs a runtime call even when nothing is cut, so only then. */
function cut(out: Observation[], n: number): Observation[] {
  if (n !== out.length) out.length = n
  return out
}

/**
 * Writes the observations of `records` from `out[at]` on; returns where they end. Arrays are allocated at their
 * final size and filled by index, not grown by `push` (which reserves 17 slots) or copied by spreads: the rules
 * observe every device several times, and that slack was most of what evaluation allocated.
 */
function observeInto(out: Observation[], at: number, records: readonly AnyRecord[]): number {
  let n = at
  for (let i = 0; i < records.length; i++) {
    const o = observe(records[i]!)
    if (o) out[n++] = o
  }
  return n
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
  for (let i = 0; i < observations.length; i++) {
    const o = observations[i]!
    if (o.ms !== null && (newest === null || o.ms > newest.ms!)) newest = o
  }
  return newest
}

/**
 * Shared by every summary with nothing in a category (most devices have no stale and no unknown record); frozen,
 * so that no caller can add to every summary at once.
 */
const NONE: Observation[] = Object.freeze([]) as unknown as Observation[]

/** Activity of each observation against the window: 0 active, 1 stale, 2 unknown. */
const ACTIVE = 0
const STALE = 1
const UNKNOWN = 2

export function summarize(observations: Observation[], now: number, windowDays: number): ActivitySummary {
  // Counted first, so that each category is allocated at its size (see `observeInto`).
  let active = 0
  let stale = 0
  for (let i = 0; i < observations.length; i++) {
    const kind = activityOf(observations[i]!, now, windowDays)
    if (kind === ACTIVE) active++
    else if (kind === STALE) stale++
  }
  return {
    active: only(observations, ACTIVE, active, now, windowDays),
    stale: only(observations, STALE, stale, now, windowDays),
    unknown: only(observations, UNKNOWN, observations.length - active - stale, now, windowDays),
    newest: newestObservation(observations),
  }
}

function activityOf(o: Observation, now: number, windowDays: number): number {
  return o.ms === null ? UNKNOWN : isActive(o, now, windowDays) ? ACTIVE : STALE
}

/** The `count` observations of one activity kind, in order. */
function only(observations: Observation[], kind: number, count: number, now: number, windowDays: number) {
  if (count === 0) return NONE
  const out = new Array<Observation>(count)
  let n = 0
  for (let i = 0; i < observations.length; i++)
    if (activityOf(observations[i]!, now, windowDays) === kind) out[n++] = observations[i]!
  return out
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

/** Human list: "a, b and c". */
export function listJoin(items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}
