/** @module Flags an old Entra object of hardware that re-joined and now signs in under a newer object. */
import type { AnyRecord, DeviceView, EntraRecord } from '../domain/device.js'
import { describeObservation, evidenceOf, listJoin, observeAll, summarize } from '../evaluate/activity.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

/** The Entra object and every record that names its deviceId: one "identity chain". */
function chainOf(view: DeviceView, e: EntraRecord): AnyRecord[] {
  if (!e.deviceId) return [e]
  const id = e.deviceId
  return [
    e,
    ...view.intune.filter((r) => r.azureADDeviceId === id),
    ...view.autopilot.filter((r) => r.azureActiveDirectoryDeviceId === id),
    ...view.defender.filter((r) => r.aadDeviceId === id),
  ]
}

export default defineRule({
  id: 'superseded-entra-object',
  title: 'Entra object is superseded by a newer object of the same hardware',
  category: 'duplicate',
  severity: 'low',
  needs: [],
  observes: ['intune', 'entra', 'autopilot', 'defender'],
  params: StaleParams,
  rationale:
    'Re-imaging a device that is not in Autopilot joins it to Entra again as a new object; the old object stays ' +
    'enabled and unused. Disabling it leaves the live object and the user alone.',
  remediation: [
    'Delete the superseded Intune record that still names the old object, if any.',
    'Disable the superseded Entra object; delete it after the grace period.',
  ],
  references: ['https://learn.microsoft.com/entra/identity/devices/manage-stale-devices'],
  evaluate(view, { params, now }) {
    if (view.entra.length < 2) return notApplicable('one Entra object at most')
    const chains = view.entra.map((e) => ({
      e,
      activity: summarize(observeAll(chainOf(view, e)), now, params.staleAfterDays),
    }))
    const live = chains.filter((c) => c.activity.active.length > 0)
    if (live.length === 0) return notApplicable('no Entra object is live; the stale rule judges the device')
    const idle = chains.filter((c) => c.activity.active.length === 0)
    const superseded = idle.filter((c) => c.activity.unknown.length === 0)
    if (superseded.length === 0) {
      if (idle.length > 0) {
        return unknown(
          'field-missing',
          `Activity unknown for Entra object ${listJoin(idle.map((c) => `"${c.e.id}"`))}.`,
        )
      }
      return pass('Every Entra object of this hardware is in use.')
    }
    return flag(() => {
      const liveText = live.map(
        (c) => `"${c.e.displayName ?? c.e.id}" (${describeObservation(c.activity.active[0]!, now)})`,
      )
      const oldText = superseded.map(
        (c) => `"${c.e.id}" (${listJoin(c.activity.stale.map((o) => describeObservation(o, now)))})`,
      )
      return {
        message: `Entra object ${listJoin(oldText)} is superseded by ${listJoin(liveText)} for the same hardware; threshold ${params.staleAfterDays} days.`,
        evidence: superseded.flatMap((c) => c.activity.stale.map(evidenceOf)),
        targets: superseded.flatMap((c) =>
          chainOf(view, c.e).filter((r) => r.source === 'entra' || r.source === 'intune'),
        ),
      }
    })
  },
})
