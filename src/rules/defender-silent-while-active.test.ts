/** @module Tests of the defender-silent-while-active rule: the healthy device whose Defender sensor stopped reporting. */
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
import rule from './defender-silent-while-active.js'
import type { Outcome } from './rule.js'

/** The healthy device, except that its Defender sensor last reported `days` ago. */
function sensorSilent(days: number | null = 120): DeviceRecords {
  const d = healthyRecords()
  d.defender.lastSeen = days === null ? null : daysAgo(days)
  return d
}

const run = (d: Partial<DeviceRecords>, params?: { staleAfterDays: number }): Outcome =>
  runRule(rule, onlyView(tenantFromDevice(d)), params ? { params } : {})

describe('defender-silent-while-active', () => {
  describe('when the device is in use but its sensor has not reported within the window', () => {
    it('flags it for review, naming the activity, the sensor age and the threshold', () => {
      expect(run(sensorSilent())).toEqual({
        kind: 'flag',
        message:
          'In use (Intune check-in 1 day ago (2026-10-31) and Entra sign-in 2 days ago (2026-10-30)) but ' +
          'Defender report 120 days ago (2026-07-04); threshold 90 days.',
        evidence: [
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(120) },
          { source: 'intune', recordId: IDS.intune, field: 'lastSyncDateTime', value: iso(1) },
          {
            source: 'entra',
            recordId: IDS.entraObject,
            field: 'approximateLastSignInDateTime',
            value: iso(2),
          },
        ],
        targets: [],
      })
    })

    it('flags a device in use through Intune alone', () => {
      const d = sensorSilent()
      d.entra.approximateLastSignInDateTime = daysAgo(120)

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'In use (Intune check-in 1 day ago (2026-10-31)) but',
      )
    })

    it('flags a device in use through Entra even when the Intune check-in is blank', () => {
      const d = sensorSilent()
      d.intune.lastSyncDateTime = null

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'In use (Entra sign-in 2 days ago (2026-10-30)) but',
      )
    })

    it('flags a silence of 91 days, one day past the threshold', () => {
      const outcome = run(sensorSilent(91))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Defender report 91 days ago (2026-08-02)')
    })

    it('flags a silence of 60 days when the policy lowers the threshold to 30 days', () => {
      const outcome = run(sensorSilent(60), { staleAfterDays: 30 })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
    })
  })

  describe('when the sensor reports', () => {
    it('passes the healthy device, naming its last report', () => {
      expect(run(healthyRecords())).toEqual({
        kind: 'pass',
        message: 'The sensor reports: Defender report 1 day ago (2026-10-31).',
      })
    })

    it('passes a report exactly 90 days ago, which is not yet stale', () => {
      expect(run(sensorSilent(90))).toEqual({
        kind: 'pass',
        message: 'The sensor reports: Defender report 90 days ago (2026-08-03).',
      })
    })

    it('passes a report 60 days ago under the default 90-day threshold', () => {
      expect(run(sensorSilent(60)).kind).toBe('pass')
    })

    it('counts a report in the future as today', () => {
      expect(run(sensorSilent(-5))).toEqual({
        kind: 'pass',
        message: 'The sensor reports: Defender report today (2026-11-06).',
      })
    })
  })

  describe('when the report date cannot be judged', () => {
    it('is unknown when lastSeen is blank while the device is in use', () => {
      expect(run(sensorSilent(null))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: `Defender lastSeen is blank for "${IDS.defender}".`,
      })
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device without a Defender machine', () => {
      const d = healthyRecords()

      expect(run({ intune: d.intune, entra: d.entra })).toEqual({
        kind: 'notApplicable',
        reason: 'no Defender machine',
      })
    })

    it('does not apply to a device that nothing else saw either', () => {
      const d = sensorSilent()
      d.intune.lastSyncDateTime = daysAgo(120)
      d.entra.approximateLastSignInDateTime = daysAgo(120)

      expect(run(d)).toEqual({ kind: 'notApplicable', reason: 'the device is not in use elsewhere' })
    })

    it('does not apply when lastSeen is blank and nothing else saw the device', () => {
      const d = sensorSilent(null)
      d.intune.lastSyncDateTime = daysAgo(120)
      d.entra.approximateLastSignInDateTime = daysAgo(120)

      expect(run(d).kind).toBe('notApplicable')
    })
  })
})
