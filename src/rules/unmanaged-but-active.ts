/** @module Review: removed from Intune, yet still in use — corporate apps reached from an unmanaged device. */

import { describeObservation, evidenceOf, listJoin, observeView, summarize } from '../evaluate/activity.js'
import { claimsIntuneManagement } from '../evaluate/intune-management.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable } from './rule.js'

export default defineRule({
  id: 'unmanaged-but-active',
  title: 'Device is no longer in Intune but is still in use',
  category: 'review',
  severity: 'high',
  needs: ['intune', 'entra'],
  observes: ['intune', 'entra', 'autopilot', 'defender'],
  params: StaleParams,
  rationale:
    'Entra still records Intune management for a device Intune no longer has, and the device is in use: users reach ' +
    'corporate apps without MDM enrollment, compliance and data protection are not enforced, and Conditional Access ' +
    'falls back to user-based policies. It must not be offboarded while in use.',
  remediation: [
    'Find out why the device left Intune (manual delete, cleanup rule, failed enrollment).',
    'Re-enroll it, or block it with Conditional Access until it is managed again.',
  ],
  references: [
    'https://learn.microsoft.com/entra/identity/devices/manage-stale-devices',
    'https://learn.microsoft.com/intune/intune-service/remote-actions/device-cleanup-rules',
  ],
  evaluate(view, { params, now }) {
    if (view.entra.length === 0 || view.intune.length > 0)
      return notApplicable('not an Entra object without an Intune record')
    const managed = view.entra.filter(claimsIntuneManagement)
    if (managed.length === 0) return notApplicable('Entra does not record Intune management for this device')
    const activity = summarize(observeView(view), now, params.staleAfterDays)
    // Not in use, or activity unknown: the removed-from-Intune rule judges it (and says unknown when it cannot).
    if (activity.active.length === 0)
      return notApplicable('not seen in use; the removed-from-intune rule judges the device')
    return flag(() => ({
      message: `No longer in Intune, but still in use: ${listJoin(activity.active.map((o) => describeObservation(o, now)))}.`,
      evidence: [
        ...managed.map((e) => ({
          source: 'entra' as const,
          recordId: e.id,
          field: 'isManaged',
          value: e.isManaged,
        })),
        ...activity.active.map(evidenceOf),
      ],
      targets: [],
    }))
  },
})
