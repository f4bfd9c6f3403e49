/** @module Tests of the intune-silent-while-active rule: the healthy device whose Intune check-ins stopped. */
import { describe, expect, it } from 'vitest'
import {
  type DeviceRecords,
  daysAgo,
  healthyRecords,
  IDS,
  iso,
  onlyView,
  runRule,
  tenantFromDevice,
} from '../../test/fixtures/tenant.js'
import rule from './intune-silent-while-active.js'
import type { Outcome } from './rule.js'

/** The healthy device, except that Intune last heard from it `days` ago. */
function intuneSilent(days: number | null = 120): DeviceRecords {
  const d = healthyRecords()
  d.intune.lastSyncDateTime = days === null ? null : daysAgo(days)
  return d
}

const run = (d: Partial<DeviceRecords>, params?: { staleAfterDays: number }): Outcome =>
  runRule(rule, onlyView(tenantFromDevice(d)), params ? { params } : {})

describe('intune-silent-while-active', () => {
  describe('when the device is in use but Intune has not heard from it within the window', () => {
    it('flags it for review, naming the activity, the Intune age and the threshold', () => {
      expect(run(intuneSilent())).toEqual({
        kind: 'flag',
        message:
          'In use (Entra sign-in 2 days ago (2026-10-30) and Defender report 1 day ago (2026-10-31)) but ' +
          'Intune check-in 120 days ago (2026-07-04); threshold 90 days.',
        evidence: [
          { source: 'intune', recordId: IDS.intune, field: 'lastSyncDateTime', value: iso(120) },
          {
            source: 'entra',
            recordId: IDS.entraObject,
            field: 'approximateLastSignInDateTime',
            value: iso(2),
          },
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(1) },
        ],
        targets: [],
      })
    })

    it('flags a device in use through Entra alone', () => {
      const d = intuneSilent()
      d.defender.lastSeen = daysAgo(120)

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'In use (Entra sign-in 2 days ago (2026-10-30)) but',
      )
    })

    it('flags a device in use through Defender even when the Entra sign-in is blank', () => {
      const d = intuneSilent()
      d.entra.approximateLastSignInDateTime = null

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'In use (Defender report 1 day ago (2026-10-31)) but',
      )
    })

    it('flags a silence of 91 days, one day past the threshold', () => {
      const outcome = run(intuneSilent(91))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Intune check-in 91 days ago (2026-08-02)')
    })

    it('flags a silence of 60 days when the policy lowers the threshold to 30 days', () => {
      const outcome = run(intuneSilent(60), { staleAfterDays: 30 })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
    })
  })

  describe('when Intune hears from the device', () => {
    it('passes the healthy device, naming its last check-in', () => {
      expect(run(healthyRecords())).toEqual({
        kind: 'pass',
        message: 'Intune hears from the device: Intune check-in 1 day ago (2026-10-31).',
      })
    })

    it('passes a check-in exactly 90 days ago, which is not yet stale', () => {
      expect(run(intuneSilent(90))).toEqual({
        kind: 'pass',
        message: 'Intune hears from the device: Intune check-in 90 days ago (2026-08-03).',
      })
    })

    it('passes a check-in 60 days ago under the default 90-day threshold', () => {
      expect(run(intuneSilent(60)).kind).toBe('pass')
    })

    it('counts a check-in in the future as today', () => {
      expect(run(intuneSilent(-5))).toEqual({
        kind: 'pass',
        message: 'Intune hears from the device: Intune check-in today (2026-11-06).',
      })
    })
  })

  describe('when the check-in cannot be judged', () => {
    it('is unknown when the Intune check-in is blank while the device is in use', () => {
      expect(run(intuneSilent(null))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: `Intune lastSyncDateTime is blank for "${IDS.intune}".`,
      })
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device without an Intune record', () => {
      const d = healthyRecords()

      expect(run({ entra: d.entra, defender: d.defender })).toEqual({
        kind: 'notApplicable',
        reason: 'no Intune record',
      })
    })

    it('leaves a device that nothing else saw either to the stale rule', () => {
      const d = intuneSilent()
      d.entra.approximateLastSignInDateTime = daysAgo(120)
      d.defender.lastSeen = daysAgo(120)

      expect(run(d)).toEqual({
        kind: 'notApplicable',
        reason: 'the device is not in use elsewhere; the stale rule judges it',
      })
    })

    it('does not apply when the Intune check-in is blank and nothing else saw the device', () => {
      const d = intuneSilent(null)
      d.entra.approximateLastSignInDateTime = daysAgo(120)
      d.defender.lastSeen = daysAgo(120)

      expect(run(d).kind).toBe('notApplicable')
    })
  })
})
