/** @module Tests of the autopilot-leftover rule: built from the healthy device with its Intune record deleted. */
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
import rule from './autopilot-leftover.js'

/** The healthy device whose Intune record was deleted; Entra, Autopilot and Defender last saw it `days` ago. */
function leftoverRecords(days = 120): DeviceRecords {
  const d = healthyRecords()
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const withoutIntune = (d: DeviceRecords): DeviceView =>
  onlyView(tenantFromDevice({ entra: d.entra, autopilot: d.autopilot, defender: d.defender }))

describe('autopilot-leftover', () => {
  describe('when the Intune record is gone and no source saw the device within the window', () => {
    it('flags the Autopilot identity, quoting the serial, the deleted Intune record, the ages and the threshold', () => {
      const outcome = runRule(rule, withoutIntune(leftoverRecords()))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          `Autopilot identity for serial "PF3KX9Q1" remains although its Intune record "${IDS.intune}" no longer exists; ` +
          'last activity: Autopilot contact 120 days ago (2026-07-04), Entra sign-in 120 days ago (2026-07-04) and ' +
          'Defender report 120 days ago (2026-07-04); threshold 90 days.',
        evidence: [
          { source: 'autopilot', recordId: IDS.autopilot, field: 'lastContactedDateTime', value: iso(120) },
          {
            source: 'entra',
            recordId: IDS.entraObject,
            field: 'approximateLastSignInDateTime',
            value: iso(120),
          },
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(120) },
          { source: 'autopilot', recordId: IDS.autopilot, field: 'managedDeviceId', value: IDS.intune },
        ],
        targets: expect.any(Array),
      })
    })

    it('targets every remaining record of the device', () => {
      expect(targetIds(runRule(rule, withoutIntune(leftoverRecords())))).toEqual([
        `autopilot:${IDS.autopilot}`,
        `entra:${IDS.entraObject}`,
        `defender:${IDS.defender}`,
      ])
    })

    it('says no Intune record matches when the identity names no managed device', () => {
      const d = leftoverRecords()
      d.autopilot.managedDeviceId = null

      const outcome = runRule(rule, withoutIntune(d))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'remains although no Intune record matches it',
      )
      expect(outcome.kind === 'flag' && outcome.evidence.map((e) => e.field)).not.toContain('managedDeviceId')
    })

    it('quotes the identity id when it has no serial number', () => {
      const d = leftoverRecords()
      d.autopilot.serialNumber = null

      const outcome = runRule(rule, withoutIntune(d))

      expect(outcome.kind === 'flag' && outcome.message).toContain(
        `Autopilot identity for serial "${IDS.autopilot}"`,
      )
    })

    it('flags an identity that only Autopilot knows', () => {
      const d = leftoverRecords()

      const outcome = runRule(rule, onlyView(tenantFromDevice({ autopilot: d.autopilot })))

      expect(outcome.kind).toBe('flag')
      expect(targetIds(outcome)).toEqual([`autopilot:${IDS.autopilot}`])
    })

    it('treats an identity as deployed when it has a contact date despite a notContacted state', () => {
      const d = leftoverRecords()
      d.autopilot.enrollmentState = 'notContacted'

      expect(runRule(rule, withoutIntune(d)).kind).toBe('flag')
    })

    it('flags a device last seen 91 days ago, one day past the threshold', () => {
      const outcome = runRule(rule, withoutIntune(leftoverRecords(91)))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'Autopilot contact 91 days ago (2026-08-02)',
      )
    })

    it('flags a device last seen 60 days ago when the policy lowers the threshold to 30 days', () => {
      const outcome = runRule(rule, withoutIntune(leftoverRecords(60)), { params: { staleAfterDays: 30 } })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
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
    ])('never flags a device that only %s saw recently', (_source, touch, seen) => {
      const d = leftoverRecords()
      touch(d)

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'pass',
        message: `Not in Intune but in use: ${seen}.`,
      })
    })

    it('passes a device last seen exactly 90 days ago, which is not yet stale', () => {
      const outcome = runRule(rule, withoutIntune(leftoverRecords(90)))

      expect(outcome.kind).toBe('pass')
      expect(outcome.kind === 'pass' && outcome.message).toContain(
        'Autopilot contact 90 days ago (2026-08-03)',
      )
    })

    it('passes a device last seen 60 days ago under the default 90-day threshold', () => {
      expect(runRule(rule, withoutIntune(leftoverRecords(60))).kind).toBe('pass')
    })

    it('counts a contact date in the future as activity today', () => {
      const d = leftoverRecords()
      d.autopilot.lastContactedDateTime = daysAgo(-5)

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'pass',
        message: 'Not in Intune but in use: Autopilot contact today (2026-11-06).',
      })
    })
  })

  describe('when activity cannot be judged', () => {
    it('is unknown, never stale, when the Entra sign-in is blank and the other sources are stale', () => {
      const d = leftoverRecords()
      d.entra.approximateLastSignInDateTime = null

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: 'Activity unknown: Entra sign-in unknown (approximateLastSignInDateTime is blank).',
      })
    })

    it('is unknown when an enrolled identity has a blank contact date', () => {
      const d = leftoverRecords()
      d.autopilot.lastContactedDateTime = null

      const outcome = runRule(rule, withoutIntune(d))

      expect(outcome).toMatchObject({ kind: 'unknown', reason: 'field-missing' })
      expect(outcome.kind === 'unknown' && outcome.detail).toContain(
        'Autopilot contact unknown (lastContactedDateTime is blank)',
      )
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device without an Autopilot identity', () => {
      const d = healthyRecords()

      expect(
        runRule(rule, onlyView(tenantFromDevice({ intune: d.intune, entra: d.entra, defender: d.defender }))),
      ).toEqual({
        kind: 'notApplicable',
        reason: 'no Autopilot identity',
      })
    })

    it('does not apply to a device that is still in Intune, however stale', () => {
      const d = leftoverRecords()
      d.intune.lastSyncDateTime = daysAgo(120)

      expect(runRule(rule, onlyView(tenantFromDevice(d)))).toEqual({
        kind: 'notApplicable',
        reason: 'the device is in Intune; the stale rule judges it',
      })
    })

    it('does not apply to an identity that was never deployed', () => {
      const d = leftoverRecords()
      d.autopilot.enrollmentState = 'notContacted'
      d.autopilot.lastContactedDateTime = null

      expect(runRule(rule, withoutIntune(d))).toEqual({
        kind: 'notApplicable',
        reason: 'the Autopilot identity was never deployed (enrollmentState notContacted)',
      })
    })
  })
})
