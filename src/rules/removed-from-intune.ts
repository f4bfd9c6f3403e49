/** @module Flags Entra objects that still claim Intune management after the Intune record is gone (the seeds' headline case). */

import { recordsOf } from '../domain/device.js'
import { describeObservation, evidenceOf, listJoin, observeView, summarize } from '../evaluate/activity.js'
import { claimsIntuneManagement } from '../evaluate/intune-management.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

export default defineRule({
  id: 'removed-from-intune',
  title: 'Device was removed from Intune but is still in Entra ID and other portals',
  category: 'removedFromIntune',
  severity: 'high',
  needs: ['intune', 'entra'],
  observes: ['intune', 'entra', 'autopilot', 'defender'],
  params: StaleParams,
  rationale:
    'Deleting, retiring or wiping a device in Intune leaves its Entra object enabled. The object keeps counting as a ' +
    'device, can still satisfy device-based Conditional Access and clutters inventories; Microsoft recommends ' +
    'disabling it, then deleting it after a grace period.',
  remediation: [
    'Confirm with the owner or asset records that the device is retired.',
    'Disable the Entra device object (offboard does this after a dry run).',
    'Offboard the Defender sensor if the machine is still onboarded.',
    'Delete the Entra object after the grace period, once BitLocker recovery keys are exported.',
  ],
  references: [
    'https://learn.microsoft.com/entra/identity/devices/manage-stale-devices',
    'https://learn.microsoft.com/intune/intune-service/remote-actions/devices-wipe',
  ],
  evaluate(view, { params, now }) {
    if (view.entra.length === 0) return notApplicable('no Entra object')
    if (view.intune.length > 0) return notApplicable('the device is in Intune')
    const managed = view.entra.filter(claimsIntuneManagement)
    if (managed.length === 0) return notApplicable('Entra does not record Intune management for this device')
    const activity = summarize(observeView(view), now, params.staleAfterDays)
    if (activity.active.length > 0) {
      return pass(
        () =>
          `Not in Intune but still in use: ${listJoin(activity.active.map((o) => describeObservation(o, now)))}.`,
      )
    }
    if (activity.unknown.length > 0) {
      return unknown(
        'field-missing',
        `Activity unknown: ${listJoin(activity.unknown.map((o) => describeObservation(o, now)))}.`,
      )
    }
    return flag(() => {
      const names = managed.map((e) => `"${e.displayName ?? e.id}"`)
      const seen = listJoin(activity.stale.map((o) => describeObservation(o, now)))
      return {
        message:
          `No longer in Intune, but Entra object ${listJoin(names)} still records Intune management; last activity: ${seen} — ` +
          `older than the ${params.staleAfterDays}-day threshold.`,
        evidence: [
          ...managed.flatMap((e) => [
            { source: 'entra' as const, recordId: e.id, field: 'isManaged', value: e.isManaged },
            { source: 'entra' as const, recordId: e.id, field: 'mdmAppId', value: e.mdmAppId },
            { source: 'entra' as const, recordId: e.id, field: 'accountEnabled', value: e.accountEnabled },
          ]),
          ...activity.stale.map(evidenceOf),
        ],
        targets: recordsOf(view),
      }
    })
  },
})
