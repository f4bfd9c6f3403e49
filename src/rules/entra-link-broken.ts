/** @module Review: an Intune record names an Entra device that does not exist, while the device is in use. */
import { describeObservation, evidenceOf, listJoin, observeView, summarize } from '../evaluate/activity.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable } from './rule.js'

export default defineRule({
  id: 'entra-link-broken',
  title: 'Intune record points at an Entra device that no longer exists',
  category: 'review',
  severity: 'medium',
  needs: ['entra'],
  observes: ['intune', 'entra', 'defender'],
  params: StaleParams,
  rationale:
    'An Intune record whose azureADDeviceId matches no Entra object lost its identity: device-based Conditional ' +
    'Access fails and the user is likely locked out of apps. Someone deleted the Entra object of a live device.',
  remediation: [
    'Re-join or re-register the device to Entra ID; for Autopilot devices, re-import the hardware hash if needed.',
    'Do not offboard a device in use.',
  ],
  references: ['https://learn.microsoft.com/entra/identity/devices/manage-stale-devices'],
  evaluate(view, { params, now }) {
    const broken = view.dangling.filter((d) => d.from.source === 'intune' && d.missingIn === 'entra')
    if (broken.length === 0) return notApplicable('no Intune record points at a missing Entra device')
    const activity = summarize(observeView(view), now, params.staleAfterDays)
    if (activity.active.length === 0)
      return notApplicable('not seen in use; the stale rule judges the device')
    return flag(() => ({
      message: `Intune record ${listJoin(broken.map((d) => `"${d.from.id}"`))} names Entra device ${listJoin(broken.map((d) => `"${d.value}"`))}, which does not exist, while the device is in use (${listJoin(activity.active.map((o) => describeObservation(o, now)))}).`,
      evidence: [
        ...broken.map((d) => ({
          source: d.from.source,
          recordId: d.from.id,
          field: d.field,
          value: d.value,
        })),
        ...activity.active.map(evidenceOf),
      ],
      targets: [],
    }))
  },
})
