/** @module Tests of the removed-from-intune rule: built from the healthy device with its Intune record deleted. */
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
import type { DeviceView } from '../domain/device.js'
import rule from './removed-from-intune.js'

/** The healthy device whose Intune record was deleted; Entra, Autopilot and Defender last saw it `days` ago. */
function removedRecords(days = 120): DeviceRecords {
  const d = healthyRecords()
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const withoutIntune = (d: DeviceRecords): DeviceView =>
  onlyView(tenantFromDevice({ entra: d.entra, autopilot: d.autopilot, defender: d.defender }))

describe('removed-from-intune', () => {
  describe('when the Intune record is gone and no source saw the device within the window', () => {
    it('flags the Entra object that still records Intune management, quoting its name, the ages and the threshold', () => {
      const outcome = runRule(rule, withoutIntune(removedRecords()))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          'No longer in Intune, but Entra object "LT-0107" still records Intune management; last activity: ' +
          'Autopilot contact 120 days ago (2026-07-04), Entra sign-in 120 days ago (2026-07-04) and ' +
          'Defender report 120 days ago (2026-07-04) — older than the 90-day threshold.',
        evidence: [
          { source: 'entra', recordId: IDS.entraObject, field: 'isManaged', value: true },
          {
            source: 'entra',
            recordId: IDS.entraObject,
            field: 'mdmAppId',
            value: '0000000a-0000-0000-c000-000000000000',
          },
          { source: 'entra', recordId: IDS.entraObject, field: 'accountEnabled', value: true },
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

    it('targets every remaining record of the device', () => {
      const outcome = runRule(rule, withoutIntune(removedRecords()))

      expect(targetIds(outcome)).toEqual([
        `autopilot:${IDS.autopilot}`,
        `entra:${IDS.entraObject}`,
        `defender:${IDS.defender}`,
      ])
    })

    it('quotes the object id when the Entra object has no display name', () => {
      const d = removedRecords()
      d.entra.displayName = null

      const outcome = runRule(rule, withoutIntune(d))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(`Entra object "${IDS.entraObject}"`)
    })

    it('accepts Intune management recorded as a management type without an MDM app id', () => {
      const d = removedRecords()
      d.entra.mdmAppId = null

      expect(runRule(rule, withoutIntune(d)).kind).toBe('flag')
    })

    it('flags a device last seen 91 days ago, one day past the threshold', () => {
      const outcome = runRule(rule, withoutIntune(removedRecords(91)))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Entra sign-in 91 days ago (2026-08-02)')
    })

    it('flags a device last seen 60 days ago when the policy lowers the threshold to 30 days', () => {
      const outcome = runRule(rule, withoutIntune(removedRecords(60)), { params: { staleAfterDays: 30 } })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('older than the 30-day threshold')
    })

    it('does not let an Autopilot identity that was never deployed block the finding', () => {
      const d = removedRecords()
      d.autopilot.enrollmentState = 'notContacted'
      d.autopilot.lastContactedDateTime = null

      const outcome = runRule(rule, withoutIntune(d))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.evidence.map((e) => e.field)).not.toContain(
        'lastContactedDateTime',
      )
    })
  })

  describe('when the device is still in use somewhere', () => {
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
    ])('passes a device that only %s saw recently, naming that activity', (_source, touch, seen) => {
      const d = removedRecords()
      touch(d)

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'pass',
        message: `Not in Intune but still in use: ${seen}.`,
      })
    })

    it('passes a device last seen exactly 90 days ago, which is not yet stale', () => {
      const outcome = runRule(rule, withoutIntune(removedRecords(90)))

      expect(outcome.kind).toBe('pass')
      expect(outcome.kind === 'pass' && outcome.message).toContain('Entra sign-in 90 days ago (2026-08-03)')
    })

    it('passes a device last seen 60 days ago under the default 90-day threshold', () => {
      expect(runRule(rule, withoutIntune(removedRecords(60))).kind).toBe('pass')
    })

    it('counts a sign-in timestamp in the future as activity today', () => {
      const d = removedRecords()
      d.entra.approximateLastSignInDateTime = daysAgo(-5)

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'pass',
        message: 'Not in Intune but still in use: Entra sign-in today (2026-11-06).',
      })
    })

    it('passes a device with a blank Entra sign-in that Defender saw recently', () => {
      const d = removedRecords()
      d.entra.approximateLastSignInDateTime = null
      d.defender.lastSeen = daysAgo(1)

      expect(runRule(rule, withoutIntune(d)).kind).toBe('pass')
    })
  })

  describe('when activity cannot be judged', () => {
    it('is unknown, never stale, when the Entra sign-in is blank and the other sources are stale', () => {
      const d = removedRecords()
      d.entra.approximateLastSignInDateTime = null

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: 'Activity unknown: Entra sign-in unknown (approximateLastSignInDateTime is blank).',
      })
    })

    it('is unknown when an enrolled Autopilot identity has a blank last contact', () => {
      const d = removedRecords()
      d.autopilot.lastContactedDateTime = null

      const outcome = runRule(rule, withoutIntune(d))

      expect(outcome).toMatchObject({ kind: 'unknown', reason: 'field-missing' })
      expect(outcome.kind === 'unknown' && outcome.detail).toContain('lastContactedDateTime is blank')
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device that is still in Intune', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason: 'the device is in Intune',
      })
    })

    it('does not apply to a device with no Entra object', () => {
      const d = removedRecords()

      expect(
        runRule(rule, onlyView(tenantFromDevice({ autopilot: d.autopilot, defender: d.defender }))),
      ).toEqual({
        kind: 'notApplicable',
        reason: 'no Entra object',
      })
    })

    it('does not apply when Entra does not consider the device managed', () => {
      const d = removedRecords()
      d.entra.isManaged = false

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'notApplicable',
        reason: 'Entra does not record Intune management for this device',
      })
    })

    it('does not apply when another MDM manages the device', () => {
      const d = removedRecords()
      d.entra.mdmAppId = '11111111-2222-3333-4444-555555555555'

      expect(runRule(rule, withoutIntune(d))).toMatchObject({
        kind: 'notApplicable',
        reason: expect.stringContaining('Intune management'),
      })
    })

    it('does not apply when Entra records neither an MDM app id nor a management type', () => {
      const d = removedRecords()
      d.entra.mdmAppId = null
      d.entra.managementType = null

      expect(runRule(rule, withoutIntune(d)).kind).toBe('notApplicable')
    })
  })
})
