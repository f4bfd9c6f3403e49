/**
 * @module Turns the records a finding targets into the ordered offboarding plan of decisions.md ("The plan"):
 * Intune, then Autopilot (only after Intune is confirmed), then Entra (disable; delete only after the grace
 * period and never for Autopilot devices), then Defender. Each step only if the record exists and is not already done.
 */
import type { Action } from '../domain/action.js'
import type {
  AnyRecord,
  AutopilotRecord,
  DefenderRecord,
  DeviceView,
  EntraRecord,
  IntuneRecord,
} from '../domain/device.js'
import type { Category } from '../domain/report.js'
import { flatten } from '../domain/text.js'
import { daysBetween } from '../domain/time.js'
import { newestObservation, observeView } from '../evaluate/activity.js'
import { autopilotSteps } from './steps/autopilot.js'
import { defenderStep } from './steps/defender.js'
import { entraStep } from './steps/entra.js'
import { intuneStep } from './steps/intune.js'

export interface PlanOptions {
  now: number
  category: Category
  /** Days an Entra object must have been disabled before a delete is proposed. */
  entraDeleteGraceDays: number
  staleAfterDays: number
}

/** A step before its number is assigned. */
export type DraftAction = Omit<Action, 'step'>

export function buildPlan(view: DeviceView, targets: ReadonlySet<AnyRecord>, opts: PlanOptions): Action[] {
  const drafts: DraftAction[] = []
  const pick = <T extends AnyRecord>(records: T[]) => records.filter((r) => targets.has(r))

  const intune = pick<IntuneRecord>(view.intune)
  for (const r of intune) {
    const step = intuneStep(r)
    if (step) drafts.push(step)
  }

  // Autopilot deregistration waits until Intune no longer lists the device (reference §6.3) — also when the
  // Intune removal is already pending and so has no step of its own.
  const autopilot = pick<AutopilotRecord>(view.autopilot)
  for (const ap of autopilot) drafts.push(...autopilotSteps(ap, { afterIntune: view.intune.length > 0 }))

  const autopilotBound = view.autopilot.length > 0
  for (const e of pick<EntraRecord>(view.entra)) {
    const step = entraStep(e, { ...opts, autopilotBound, lastActivityDays: lastActivityDays(view, opts.now) })
    if (step) drafts.push(step)
  }

  for (const m of pick<DefenderRecord>(view.defender)) {
    const step = defenderStep(m, opts)
    if (step) drafts.push(step)
  }
  // Kept in the report until the run is stored: each text as one flat string rather than the tree of pieces its
  // template made (see `flatten`; flattened in place, so the step refers to the flat text from the next collection).
  for (const d of drafts) {
    flatten(d.instructions)
    for (const p of d.prerequisites) flatten(p)
    for (const w of d.warnings) flatten(w)
    if (d.request) flatten(d.request.path)
  }
  return drafts.map((d, i) => ({ step: i + 1, ...d }))
}

/** Days since any record of the device was last seen (as the rules observe it); null when nothing is known. */
function lastActivityDays(view: DeviceView, now: number): number | null {
  const newest = newestObservation(observeView(view))
  return newest === null ? null : daysBetween(newest.ms!, now)
}
