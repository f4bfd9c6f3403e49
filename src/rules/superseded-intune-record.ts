/** @module Flags an old Intune record of hardware that re-enrolled and checks in under a newer record. */
import { describeObservation, evidenceOf, listJoin, observeAll, summarize } from '../evaluate/activity.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

export default defineRule({
  id: 'superseded-intune-record',
  title: 'Intune record is superseded by a newer enrollment of the same hardware',
  category: 'duplicate',
  severity: 'low',
  needs: [],
  observes: ['intune'],
  params: StaleParams,
  rationale:
    'Re-imaging or re-enrolling a device creates a new Intune record; the old one stops checking in but stays, ' +
    'counting twice in compliance and licence reports. Removing it leaves the live record untouched.',
  remediation: ['Delete the superseded Intune record; keep the record that still checks in.'],
  references: ['https://learn.microsoft.com/intune/intune-service/remote-actions/device-delete'],
  evaluate(view, { params, now }) {
    if (view.intune.length < 2) return notApplicable('one Intune record at most')
    const activity = summarize(observeAll(view.intune), now, params.staleAfterDays)
    if (activity.active.length === 0)
      return notApplicable('no Intune record is live; the stale rule judges the device')
    if (activity.stale.length === 0) {
      if (activity.unknown.length > 0) {
        return unknown(
          'field-missing',
          `Check-in unknown for ${listJoin(activity.unknown.map((o) => `"${o.record.id}"`))}.`,
        )
      }
      return pass('Every Intune record of this hardware checks in.')
    }
    return flag(() => {
      const serial = view.intune.find((r) => r.serialNumber)?.serialNumber
      const live = activity.active.map((o) => `"${o.record.id}" (${describeObservation(o, now)})`)
      const old = activity.stale.map((o) => `"${o.record.id}" (${describeObservation(o, now)})`)
      return {
        message: `Intune record ${listJoin(old)} is superseded by ${listJoin(live)}${serial ? ` for serial "${serial}"` : ''}; threshold ${params.staleAfterDays} days.`,
        evidence: [...activity.stale.map(evidenceOf), ...activity.active.map(evidenceOf)],
        targets: activity.stale.map((o) => o.record),
      }
    })
  },
})
