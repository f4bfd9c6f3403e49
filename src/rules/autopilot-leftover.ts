/** @module Flags Autopilot registrations whose device left Intune and that nothing has seen since. */

import { recordsOf } from '../domain/device.js'
import {
  describeObservation,
  evidenceOf,
  listJoin,
  observe,
  observeView,
  summarize,
} from '../evaluate/activity.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

export default defineRule({
  id: 'autopilot-leftover',
  title: 'Autopilot registration belongs to a device that is gone from Intune',
  category: 'autopilotLeftover',
  severity: 'medium',
  needs: ['intune'],
  observes: ['intune', 'entra', 'autopilot', 'defender'],
  params: StaleParams,
  rationale:
    'A device that permanently leaves the organisation must be deregistered from Windows Autopilot; otherwise it ' +
    'stays bound to the tenant, cannot be registered by its next owner, and keeps its Entra object alive.',
  remediation: [
    'Confirm the device left the organisation (sold, returned, scrapped).',
    'Unassign the user from the Autopilot identity if one is assigned, then delete the identity.',
    'Do not delete the Entra object by hand: deregistration handles it, and deleting it can break Autopilot.',
  ],
  references: ['https://learn.microsoft.com/autopilot/registration-overview'],
  evaluate(view, { params, now }) {
    if (view.autopilot.length === 0) return notApplicable('no Autopilot identity')
    if (view.intune.length > 0) return notApplicable('the device is in Intune; the stale rule judges it')
    const deployed = view.autopilot.filter((a) => observe(a) !== undefined)
    if (deployed.length === 0)
      return notApplicable('the Autopilot identity was never deployed (enrollmentState notContacted)')
    const activity = summarize(observeView(view), now, params.staleAfterDays)
    if (activity.active.length > 0) {
      return pass(
        () =>
          `Not in Intune but in use: ${listJoin(activity.active.map((o) => describeObservation(o, now)))}.`,
      )
    }
    if (activity.unknown.length > 0) {
      return unknown(
        'field-missing',
        `Activity unknown: ${listJoin(activity.unknown.map((o) => describeObservation(o, now)))}.`,
      )
    }
    return flag(() => {
      const gone = view.dangling.filter((d) => d.from.source === 'autopilot' && d.missingIn === 'intune')
      const why = gone.length
        ? `its Intune record ${listJoin(gone.map((d) => `"${d.value}"`))} no longer exists`
        : 'no Intune record matches it'
      return {
        message: `Autopilot identity for serial ${listJoin(deployed.map((a) => `"${a.serialNumber ?? a.id}"`))} remains although ${why}; last activity: ${listJoin(activity.stale.map((o) => describeObservation(o, now)))}; threshold ${params.staleAfterDays} days.`,
        evidence: [
          ...activity.stale.map(evidenceOf),
          ...gone.map((d) => ({
            source: d.from.source,
            recordId: d.from.id,
            field: d.field,
            value: d.value,
          })),
        ],
        targets: recordsOf(view),
      }
    })
  },
})
