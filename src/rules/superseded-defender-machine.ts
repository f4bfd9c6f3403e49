/** @module Flags an old Defender machine entry of a device that now reports under a newer machine id. */
import { describeObservation, evidenceOf, listJoin, observeAll, summarize } from '../evaluate/activity.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

export default defineRule({
  id: 'superseded-defender-machine',
  title: 'Defender machine entry is superseded by a newer entry of the same device',
  category: 'duplicate',
  severity: 'low',
  needs: [],
  observes: ['defender'],
  params: StaleParams,
  rationale:
    'A re-imaged or re-onboarded device gets a new Defender machine id; the old entry stops reporting but stays in ' +
    'inventory for up to 180 days and skews exposure and vulnerability numbers.',
  remediation: ['Exclude the old entry in the Defender portal with the justification "Duplicate device".'],
  references: [
    'https://learn.microsoft.com/defender-vulnerability-management/exclude-devices',
    'https://learn.microsoft.com/defender-endpoint/machines-view-overview',
  ],
  evaluate(view, { params, now }) {
    if (view.defender.length < 2) return notApplicable('one Defender machine at most')
    const activity = summarize(observeAll(view.defender), now, params.staleAfterDays)
    if (activity.active.length === 0)
      return notApplicable('no machine entry is live; the device-level rules judge it')
    if (activity.stale.length === 0) {
      if (activity.unknown.length > 0) {
        return unknown(
          'field-missing',
          `lastSeen unknown for ${listJoin(activity.unknown.map((o) => `"${o.record.id}"`))}.`,
        )
      }
      return pass('Every Defender entry of this device reports.')
    }
    const old = activity.stale.filter((o) => o.record.source === 'defender' && o.record.isExcluded !== true)
    if (old.length === 0) return pass('The superseded Defender entries are already excluded.')
    return flag(() => ({
      message: `Defender machine ${listJoin(old.map((o) => `"${o.record.id}" (${describeObservation(o, now)})`))} is superseded by ${listJoin(activity.active.map((o) => `"${o.record.id}" (${describeObservation(o, now)})`))}; threshold ${params.staleAfterDays} days.`,
      evidence: [...old.map(evidenceOf), ...activity.active.map(evidenceOf)],
      targets: old.map((o) => o.record),
    }))
  },
})
