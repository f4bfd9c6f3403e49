/** @module The shared verdict of the "silent while active" review rules: one source hears nothing from a device in use. */
import { flag, type Outcome, unknown } from '../rules/rule.js'
import { type ActivitySummary, describeObservation, evidenceOf, listJoin } from './activity.js'

/**
 * Given a device in use elsewhere (`elsewhere.active` non-empty) whose records in one source saw nothing within the
 * window: unknown when that source has no timestamp at all, else a review flag quoting both sides.
 */
export function silentWhileActive(
  silent: ActivitySummary,
  elsewhere: ActivitySummary,
  blank: string,
  now: number,
  staleAfterDays: number,
): Outcome {
  if (silent.stale.length === 0) {
    return unknown(
      'field-missing',
      `${blank} is blank for ${listJoin(silent.unknown.map((o) => `"${o.record.id}"`))}.`,
    )
  }
  return flag(() => ({
    message: `In use (${listJoin(elsewhere.active.map((o) => describeObservation(o, now)))}) but ${listJoin(silent.stale.map((o) => describeObservation(o, now)))}; threshold ${staleAfterDays} days.`,
    evidence: [...silent.stale.map(evidenceOf), ...elsewhere.active.map(evidenceOf)],
    targets: [],
  }))
}
