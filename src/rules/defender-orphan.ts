/** @module Flags Defender machines that no other source knows and that stopped reporting. */
import { describeObservation, evidenceOf, listJoin, observeAll, summarize } from '../evaluate/activity.js'
import { isOnboarded } from '../evaluate/defender-onboarding.js'
import { StaleParams } from './params.js'
import { defineRule, flag, notApplicable, pass, unknown } from './rule.js'

export default defineRule({
  id: 'defender-orphan',
  title: 'Defender machine has no live counterpart and stopped reporting',
  category: 'defenderOrphan',
  severity: 'medium',
  needs: ['intune', 'entra'],
  observes: ['defender'],
  params: StaleParams,
  rationale:
    'A machine that only Defender knows and that has not sent a report for months was usually sold, scrapped or ' +
    're-imaged without offboarding. It still counts in device numbers, exposure scores and vulnerability reports.',
  remediation: [
    'Confirm the machine is gone (check its last IP and owner).',
    'Offboard it through the API (supported Windows versions) or with the local offboarding script (macOS, Linux).',
    'Where it will never report again, exclude it in the Defender portal as "Inactive device".',
  ],
  references: [
    'https://learn.microsoft.com/defender-endpoint/api/offboard-machine-api',
    'https://learn.microsoft.com/defender-endpoint/offboard-machines',
  ],
  evaluate(view, { params, now }) {
    if (view.defender.length === 0) return notApplicable('no Defender machine')
    if (view.entra.length > 0 || view.intune.length > 0 || view.autopilot.length > 0) {
      return notApplicable('other sources know this device; the device-level rules judge it')
    }
    const activity = summarize(observeAll(view.defender), now, params.staleAfterDays)
    if (activity.active.length > 0) {
      // Servers and unmanaged machines live in Defender alone; a reporting sensor is a live machine.
      return pass(
        () =>
          `Defender-only but reporting: ${listJoin(activity.active.map((o) => describeObservation(o, now)))}.`,
      )
    }
    if (activity.unknown.length > 0) {
      return unknown(
        'field-missing',
        `Defender lastSeen is blank for ${listJoin(activity.unknown.map((o) => `"${o.record.id}"`))}.`,
      )
    }
    const onboarded = view.defender.filter(isOnboarded)
    if (onboarded.length === 0) return notApplicable('no machine is still onboarded')
    return flag(() => {
      const dangling = view.dangling.filter((d) => d.from.source === 'defender')
      const why = dangling.length
        ? `its Entra device id ${listJoin([...new Set(dangling.map((d) => `"${d.value}"`))])} matches no Entra object`
        : 'no Intune, Entra or Autopilot record matches it'
      return {
        message: `Only Defender knows this machine (${why}) and it stopped reporting: ${listJoin(activity.stale.map((o) => describeObservation(o, now)))}; threshold ${params.staleAfterDays} days.`,
        evidence: [
          ...activity.stale.map(evidenceOf),
          ...onboarded.map((m) => ({
            source: 'defender' as const,
            recordId: m.id,
            field: 'healthStatus',
            value: m.healthStatus,
          })),
          ...dangling.map((d) => ({
            source: d.from.source,
            recordId: d.from.id,
            field: d.field,
            value: d.value,
          })),
        ],
        targets: onboarded,
      }
    })
  },
})
