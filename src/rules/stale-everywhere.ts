/** @module Flags devices that every connected source last saw longer ago than the staleness window. */

import { recordsOf } from '../domain/device.js'
import { describeObservation, evidenceOf, listJoin, observeView, summarize } from '../evaluate/activity.js'
import { claimsIntuneManagement } from '../evaluate/intune-management.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

export default defineRule({
  id: 'stale-everywhere',
  title: 'Device has not been seen by any source within the staleness window',
  category: 'stale',
  severity: 'medium',
  needs: [],
  observes: ['intune', 'entra', 'autopilot', 'defender'],
  params: StaleParams,
  rationale:
    'A device that no source has seen for months is usually retired, lost, sold or re-imaged. Its records keep ' +
    'licences, compliance reports, Conditional Access and vulnerability numbers wrong, and a lost device that is still ' +
    'enabled is a door left open.',
  remediation: [
    'Confirm with the owner or asset records that the device is retired.',
    'Follow the plan in order: Intune, then Autopilot, then Entra (disable first), then Defender.',
  ],
  references: [
    'https://learn.microsoft.com/entra/identity/devices/manage-stale-devices',
    'https://learn.microsoft.com/autopilot/registration-overview',
  ],
  evaluate(view, { params, now }) {
    const managedElsewhere = view.intune.length === 0 && view.entra.some(claimsIntuneManagement)
    if (
      view.intune.length === 0 &&
      (view.entra.length === 0 || managedElsewhere || view.autopilot.length > 0)
    ) {
      // Defender-only, Autopilot-only and removed-from-Intune devices have rules of their own.
      return notApplicable('no Intune record and no unmanaged Entra object')
    }
    const activity = summarize(observeView(view), now, params.staleAfterDays)
    if (activity.active.length > 0) {
      return pass(() => `In use: ${listJoin(activity.active.map((o) => describeObservation(o, now)))}.`)
    }
    if (activity.unknown.length > 0) {
      return unknown(
        'field-missing',
        `Activity unknown: ${listJoin(activity.unknown.map((o) => describeObservation(o, now)))}.`,
      )
    }
    return flag(() => ({
      message: `No source has seen this device within ${params.staleAfterDays} days: ${listJoin(activity.stale.map((o) => describeObservation(o, now)))}.`,
      evidence: activity.stale.map(evidenceOf),
      targets: recordsOf(view),
    }))
  },
})
