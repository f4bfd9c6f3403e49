/** @module Review: the device is in daily use but its Defender sensor stopped reporting (unprotected, not retired). */
import { describeObservation, observeAll, summarize } from '../evaluate/activity.js'
import { isOnboarded } from '../evaluate/defender-onboarding.js'
import { silentWhileActive } from '../evaluate/silence.js'
import { StaleParams } from './params.js'
import { defineRule, notApplicable, pass } from './rule.js'

export default defineRule({
  id: 'defender-silent-while-active',
  title: 'Device is in use but its Defender sensor has not reported within the staleness window',
  category: 'review',
  severity: 'medium',
  needs: [],
  observes: ['intune', 'entra', 'defender'],
  params: StaleParams,
  rationale:
    'A device that checks in to Intune or signs in to Entra while its Defender sensor is silent is running without ' +
    'endpoint protection telemetry. It is a security gap to fix, never a reason to offboard.',
  remediation: [
    'Check the sensor service (SENSE) and connectivity on the device; re-run the onboarding package if needed.',
    'If the device was re-imaged and re-onboarded under a new machine id, the old entry is a duplicate instead.',
  ],
  references: ['https://learn.microsoft.com/defender-endpoint/fix-unhealthy-sensors'],
  evaluate(view, { params, now }) {
    if (view.defender.length === 0) return notApplicable('no Defender machine')
    // An offboarded sensor is silent on purpose.
    const onboarded = view.defender.filter(isOnboarded)
    if (onboarded.length === 0) return notApplicable('no machine is onboarded')
    const defender = summarize(observeAll(onboarded), now, params.staleAfterDays)
    if (defender.active.length > 0)
      return pass(() => `The sensor reports: ${describeObservation(defender.active[0]!, now)}.`)
    const elsewhere = summarize(observeAll([...view.intune, ...view.entra]), now, params.staleAfterDays)
    if (elsewhere.active.length === 0) return notApplicable('the device is not in use elsewhere')
    return silentWhileActive(defender, elsewhere, 'Defender lastSeen', now, params.staleAfterDays)
  },
})
