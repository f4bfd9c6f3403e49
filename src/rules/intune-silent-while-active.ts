/** @module Review: the device is in daily use but Intune has not heard from it for months (a broken MDM agent). */
import { describeObservation, observeAll, summarize } from '../evaluate/activity.js'
import { silentWhileActive } from '../evaluate/silence.js'
import { StaleParams } from './params.js'
import { defineRule, notApplicable, pass } from './rule.js'

export default defineRule({
  id: 'intune-silent-while-active',
  title: 'Device is in use but Intune has not heard from it within the staleness window',
  category: 'review',
  severity: 'medium',
  needs: [],
  observes: ['intune', 'entra', 'defender'],
  params: StaleParams,
  rationale:
    'A device that signs in or reports to Defender while Intune hears nothing usually has a broken MDM agent or an ' +
    'expired management certificate: policies and compliance are no longer enforced. It needs fixing, not offboarding.',
  remediation: [
    'Ask the user to sync the device from Company Portal or Settings; check the MDM certificate and enrollment.',
    'If the device cannot recover, re-enroll it; do not offboard a device in use.',
  ],
  references: ['https://learn.microsoft.com/intune/intune-service/remote-actions/device-sync'],
  evaluate(view, { params, now }) {
    if (view.intune.length === 0) return notApplicable('no Intune record')
    const intune = summarize(observeAll(view.intune), now, params.staleAfterDays)
    if (intune.active.length > 0)
      return pass(() => `Intune hears from the device: ${describeObservation(intune.active[0]!, now)}.`)
    const elsewhere = summarize(observeAll([...view.entra, ...view.defender]), now, params.staleAfterDays)
    if (elsewhere.active.length === 0)
      return notApplicable('the device is not in use elsewhere; the stale rule judges it')
    return silentWhileActive(intune, elsewhere, 'Intune lastSyncDateTime', now, params.staleAfterDays)
  },
})
