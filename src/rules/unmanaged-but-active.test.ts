/** @module Tests of the unmanaged-but-active rule: built from the healthy device with its Intune record deleted. */
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
import type { DeviceView } from '../domain/device.js'
import type { Outcome } from './rule.js'
import rule from './unmanaged-but-active.js'

/** The healthy device whose Intune record was deleted; Entra, Autopilot and Defender last saw it `days` ago. */
function removedRecords(days: number): DeviceRecords {
  const d = healthyRecords()
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const withoutIntune = (d: DeviceRecords): DeviceView =>
  onlyView(tenantFromDevice({ entra: d.entra, autopilot: d.autopilot, defender: d.defender }))
const run = (d: DeviceRecords, params?: { staleAfterDays: number }): Outcome =>
  runRule(rule, withoutIntune(d), params ? { params } : {})

describe('unmanaged-but-active', () => {
  describe('when the device left Intune but is still in use', () => {
    it('flags it for review with no targets, naming the activity', () => {
      const d = healthyRecords()

      expect(run(d)).toEqual({
        kind: 'flag',
        message:
          'No longer in Intune, but still in use: Autopilot contact 1 day ago (2026-10-31), ' +
          'Entra sign-in 2 days ago (2026-10-30) and Defender report 1 day ago (2026-10-31).',
        evidence: [
          { source: 'entra', recordId: IDS.entraObject, field: 'isManaged', value: true },
          { source: 'autopilot', recordId: IDS.autopilot, field: 'lastContactedDateTime', value: iso(1) },
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

    it.each<[string, (d: DeviceRecords) => void, string]>([
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
    ])('flags a device that only %s saw recently', (_source, touch, seen) => {
      const d = removedRecords(120)
      touch(d)

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toBe(
        `No longer in Intune, but still in use: ${seen}.`,
      )
    })

    it('flags a device last seen exactly 90 days ago, which still counts as in use', () => {
      const outcome = run(removedRecords(90))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Entra sign-in 90 days ago (2026-08-03)')
    })

    it('flags a device last seen 60 days ago under the default 90-day threshold', () => {
      expect(run(removedRecords(60)).kind).toBe('flag')
    })

    it('counts a sign-in in the future as in use today', () => {
      const d = removedRecords(120)
      d.entra.approximateLastSignInDateTime = daysAgo(-5)

      const outcome = run(d)

      expect(outcome.kind === 'flag' && outcome.message).toBe(
        'No longer in Intune, but still in use: Entra sign-in today (2026-11-06).',
      )
    })
  })

  describe('when the device is not in use', () => {
    const reason = 'not seen in use; the removed-from-intune rule judges the device'

    it('leaves a device no source saw for 120 days', () => {
      expect(run(removedRecords(120))).toEqual({ kind: 'notApplicable', reason })
    })

    it('leaves a device last seen 91 days ago, one day past the threshold', () => {
      expect(run(removedRecords(91))).toEqual({ kind: 'notApplicable', reason })
    })

    it('leaves a device last seen 60 days ago when the policy lowers the threshold to 30 days', () => {
      expect(run(removedRecords(60), { staleAfterDays: 30 })).toEqual({ kind: 'notApplicable', reason })
    })

    it('does not raise the review, nor guess a pass, on a blank Entra sign-in when the other sources are stale', () => {
      const d = removedRecords(120)
      d.entra.approximateLastSignInDateTime = null

      expect(run(d)).toEqual({ kind: 'notApplicable', reason })
    })
  })

  describe('when the rule does not apply', () => {
    const notManaged = {
      kind: 'notApplicable',
      reason: 'Entra does not record Intune management for this device',
    }

    it('does not apply to a device that is still in Intune', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason: 'not an Entra object without an Intune record',
      })
    })

    it('does not apply to a device without an Entra object', () => {
      const d = healthyRecords()

      expect(
        runRule(rule, onlyView(tenantFromDevice({ autopilot: d.autopilot, defender: d.defender }))),
      ).toEqual({
        kind: 'notApplicable',
        reason: 'not an Entra object without an Intune record',
      })
    })

    it('does not apply when Entra does not consider the device managed', () => {
      const d = healthyRecords()
      d.entra.isManaged = false

      expect(run(d)).toEqual(notManaged)
    })

    it('does not apply when another MDM manages the device', () => {
      const d = healthyRecords()
      d.entra.mdmAppId = '11111111-2222-3333-4444-555555555555'

      expect(run(d)).toEqual(notManaged)
    })
  })
})
