/** @module Tests of the stale-everywhere rule: built from the healthy device, every source last seeing it long ago. */
import { describe, expect, it } from 'vitest'
import {
  type DeviceRecords,
  daysAgo,
  healthyRecords,
  IDS,
  iso,
  onlyView,
  runRule,
  targetIds,
  tenantFromDevice,
} from '../../test/fixtures/tenant.js'
import type { Outcome } from './rule.js'
import rule from './stale-everywhere.js'

/** The healthy device, last seen by all four sources `days` ago. */
function seenDaysAgo(days: number): DeviceRecords {
  const d = healthyRecords()
  d.intune.lastSyncDateTime = daysAgo(days)
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const run = (d: Partial<DeviceRecords>, params?: { staleAfterDays: number }): Outcome =>
  runRule(rule, onlyView(tenantFromDevice(d)), params ? { params } : {})

describe('stale-everywhere', () => {
  describe('when no source saw the device within the window', () => {
    it('flags the device, listing every source with its age and the threshold', () => {
      const outcome = run(seenDaysAgo(120))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          'No source has seen this device within 90 days: Intune check-in 120 days ago (2026-07-04), ' +
          'Autopilot contact 120 days ago (2026-07-04), Entra sign-in 120 days ago (2026-07-04) and ' +
          'Defender report 120 days ago (2026-07-04).',
        evidence: [
          { source: 'intune', recordId: IDS.intune, field: 'lastSyncDateTime', value: iso(120) },
          { source: 'autopilot', recordId: IDS.autopilot, field: 'lastContactedDateTime', value: iso(120) },
          {
            source: 'entra',
            recordId: IDS.entraObject,
            field: 'approximateLastSignInDateTime',
            value: iso(120),
          },
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(120) },
        ],
        targets: expect.any(Array),
      })
    })

    it('targets every record of the device', () => {
      expect(targetIds(run(seenDaysAgo(120)))).toEqual([
        `intune:${IDS.intune}`,
        `autopilot:${IDS.autopilot}`,
        `entra:${IDS.entraObject}`,
        `defender:${IDS.defender}`,
      ])
    })

    it('flags a device last seen 91 days ago, one day past the threshold', () => {
      const outcome = run(seenDaysAgo(91))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Intune check-in 91 days ago (2026-08-02)')
    })

    it('flags a device last seen 60 days ago when the policy lowers the threshold to 30 days', () => {
      const outcome = run(seenDaysAgo(60), { staleAfterDays: 30 })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('within 30 days')
    })

    it('flags a device known to Intune alone', () => {
      const d = seenDaysAgo(120)

      const outcome = run({ intune: d.intune })

      expect(outcome.kind).toBe('flag')
      expect(targetIds(outcome)).toEqual([`intune:${IDS.intune}`])
    })

    it('flags an unmanaged Entra object that is not in Intune or Autopilot', () => {
      const d = seenDaysAgo(120)
      d.entra.isManaged = false

      const outcome = run({ entra: d.entra, defender: d.defender })

      expect(outcome.kind).toBe('flag')
      expect(targetIds(outcome)).toEqual([`entra:${IDS.entraObject}`, `defender:${IDS.defender}`])
    })

    it('ignores an Autopilot identity that was never deployed', () => {
      const d = seenDaysAgo(120)
      d.autopilot.enrollmentState = 'notContacted'
      d.autopilot.lastContactedDateTime = null

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.evidence.map((e) => e.source)).toEqual([
        'intune',
        'entra',
        'defender',
      ])
    })

    it('refuses a threshold below the 30-day minimum', () => {
      expect(() => run(seenDaysAgo(120), { staleAfterDays: 20 })).toThrow()
    })
  })

  describe('when any source saw the device within the window', () => {
    it('passes the healthy device', () => {
      const outcome = run(healthyRecords())

      expect(outcome.kind).toBe('pass')
      expect(outcome.kind === 'pass' && outcome.message).toContain(
        'In use: Intune check-in 1 day ago (2026-10-31)',
      )
    })

    it.each<[string, (d: DeviceRecords) => void, string]>([
      ['Intune', (d) => (d.intune.lastSyncDateTime = daysAgo(1)), 'Intune check-in 1 day ago (2026-10-31)'],
      [
        'Entra',
        (d) => (d.entra.approximateLastSignInDateTime = daysAgo(2)),
        'Entra sign-in 2 days ago (2026-10-30)',
      ],
      [
        'Autopilot',
        (d) => (d.autopilot.lastContactedDateTime = daysAgo(1)),
        'Autopilot contact 1 day ago (2026-10-31)',
      ],
      ['Defender', (d) => (d.defender.lastSeen = daysAgo(1)), 'Defender report 1 day ago (2026-10-31)'],
    ])('never flags a device that only %s saw recently', (_source, touch, seen) => {
      const d = seenDaysAgo(120)
      touch(d)

      expect(run(d)).toEqual({ kind: 'pass', message: `In use: ${seen}.` })
    })

    it('passes a device last seen exactly 90 days ago, which is not yet stale', () => {
      const outcome = run(seenDaysAgo(90))

      expect(outcome.kind).toBe('pass')
      expect(outcome.kind === 'pass' && outcome.message).toContain('Intune check-in 90 days ago (2026-08-03)')
    })

    it('passes a device last seen 60 days ago under the default 90-day threshold', () => {
      expect(run(seenDaysAgo(60)).kind).toBe('pass')
    })

    it('counts a check-in timestamp in the future as activity today', () => {
      const d = seenDaysAgo(120)
      d.intune.lastSyncDateTime = daysAgo(-5)

      expect(run(d)).toEqual({ kind: 'pass', message: 'In use: Intune check-in today (2026-11-06).' })
    })

    it('passes when a blank timestamp sits beside a recent one', () => {
      const d = seenDaysAgo(120)
      d.entra.approximateLastSignInDateTime = null
      d.defender.lastSeen = daysAgo(1)

      expect(run(d).kind).toBe('pass')
    })
  })

  describe('when activity cannot be judged', () => {
    it('is unknown, never stale, when the Entra sign-in is blank and the other sources are stale', () => {
      const d = seenDaysAgo(120)
      d.entra.approximateLastSignInDateTime = null

      expect(run(d)).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: 'Activity unknown: Entra sign-in unknown (approximateLastSignInDateTime is blank).',
      })
    })

    it('is unknown when the Intune check-in is blank and the other sources are stale', () => {
      const d = seenDaysAgo(120)
      d.intune.lastSyncDateTime = null

      const outcome = run(d)

      expect(outcome).toMatchObject({ kind: 'unknown', reason: 'field-missing' })
      expect(outcome.kind === 'unknown' && outcome.detail).toContain(
        'Intune check-in unknown (lastSyncDateTime is blank)',
      )
    })
  })

  describe('when the rule does not apply', () => {
    const reason = 'no Intune record and no unmanaged Entra object'

    it('leaves a Defender-only machine to the defender-orphan rule', () => {
      const d = seenDaysAgo(120)

      expect(run({ defender: d.defender })).toEqual({ kind: 'notApplicable', reason })
    })

    it('leaves a device removed from Intune but still managed in Entra to the removed-from-intune rule', () => {
      const d = seenDaysAgo(120)

      expect(run({ entra: d.entra, defender: d.defender })).toEqual({ kind: 'notApplicable', reason })
    })

    it('leaves an Autopilot identity without an Intune record to the autopilot-leftover rule', () => {
      const d = seenDaysAgo(120)
      d.entra.isManaged = false

      expect(run({ entra: d.entra, autopilot: d.autopilot, defender: d.defender })).toEqual({
        kind: 'notApplicable',
        reason,
      })
    })
  })
})
