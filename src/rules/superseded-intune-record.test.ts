/** @module Tests of the superseded-intune-record rule: the healthy device plus the Intune record of an earlier enrollment. */
import { describe, expect, it } from 'vitest'
import {
  daysAgo,
  healthyRecords,
  IDS,
  iso,
  onlyView,
  runRule,
  targetIds,
  tenantFromDevice,
  tenantOf,
} from '../../test/fixtures/tenant.js'
import type { DeviceView, IntuneRecord } from '../domain/device.js'
import rule from './superseded-intune-record.js'

const OLD_INTUNE_ID = '0c5e2a44-9d1b-4f0e-8b7a-3e2f1d0c9b8a'
const OLDER_INTUNE_ID = '07d41b3c-2e5f-4a69-8c7d-9e0f1a2b3c4d'
const OLD_ENTRA_DEVICE_ID = '3f1b7c2e-6a5d-4e8f-9b0c-1d2e3f4a5b6c'

/** The Intune record the healthy laptop left behind when it was re-imaged: same serial, another Entra device, silent 200 days. */
function oldEnrollment(): IntuneRecord {
  const { intune } = healthyRecords()
  return {
    ...intune,
    id: OLD_INTUNE_ID,
    azureADDeviceId: OLD_ENTRA_DEVICE_ID,
    lastSyncDateTime: daysAgo(200),
  }
}

/** The healthy device with extra Intune records of the same hardware. */
function withOld(...old: IntuneRecord[]): DeviceView {
  const d = healthyRecords()
  return onlyView(
    tenantOf({
      intune: [d.intune, ...old],
      entra: [d.entra],
      autopilot: [d.autopilot],
      defender: [d.defender],
    }),
  )
}

describe('superseded-intune-record', () => {
  describe('when an older Intune record of the same hardware stopped checking in', () => {
    it('flags the old record, naming both records, their ages, the serial and the threshold', () => {
      const outcome = runRule(rule, withOld(oldEnrollment()))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          `Intune record "${OLD_INTUNE_ID}" (Intune check-in 200 days ago (2026-04-15)) is superseded by ` +
          `"${IDS.intune}" (Intune check-in 1 day ago (2026-10-31)) for serial "PF3KX9Q1"; threshold 90 days.`,
        evidence: [
          { source: 'intune', recordId: OLD_INTUNE_ID, field: 'lastSyncDateTime', value: iso(200) },
          { source: 'intune', recordId: IDS.intune, field: 'lastSyncDateTime', value: iso(1) },
        ],
        targets: expect.any(Array),
      })
    })

    it('targets only the old record, never the live one', () => {
      expect(targetIds(runRule(rule, withOld(oldEnrollment())))).toEqual([`intune:${OLD_INTUNE_ID}`])
    })

    it('targets every superseded record when the hardware was enrolled three times', () => {
      const older = { ...oldEnrollment(), id: OLDER_INTUNE_ID, lastSyncDateTime: daysAgo(365) }

      const outcome = runRule(rule, withOld(oldEnrollment(), older))

      expect(outcome.kind).toBe('flag')
      expect(targetIds(outcome)).toEqual([`intune:${OLDER_INTUNE_ID}`, `intune:${OLD_INTUNE_ID}`])
    })

    it('flags an old record that names the same Entra device as the live one', () => {
      const old = oldEnrollment()
      old.azureADDeviceId = IDS.entraDevice

      const outcome = runRule(rule, withOld(old))

      expect(outcome.kind).toBe('flag')
      expect(targetIds(outcome)).toEqual([`intune:${OLD_INTUNE_ID}`])
    })

    it('flags an old record silent for 91 days, one day past the threshold', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = daysAgo(91)

      const outcome = runRule(rule, withOld(old))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Intune check-in 91 days ago (2026-08-02)')
    })

    it('flags an old record silent for 60 days when the policy lowers the threshold to 30 days', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = daysAgo(60)

      const outcome = runRule(rule, withOld(old), { params: { staleAfterDays: 30 } })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
    })
  })

  describe('when every Intune record of the hardware checks in', () => {
    const message = 'Every Intune record of this hardware checks in.'

    it('passes two records that both checked in recently', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = daysAgo(2)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('passes an old record that checked in exactly 90 days ago, which is not yet stale', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = daysAgo(90)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('passes an old record silent for 60 days under the default 90-day threshold', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = daysAgo(60)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('counts a check-in in the future as live', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = daysAgo(-5)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })
  })

  describe('when a check-in cannot be judged', () => {
    it('is unknown, never superseded, when the old record has a blank check-in', () => {
      const old = oldEnrollment()
      old.lastSyncDateTime = null

      expect(runRule(rule, withOld(old))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: `Check-in unknown for "${OLD_INTUNE_ID}".`,
      })
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device with a single Intune record', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason: 'one Intune record at most',
      })
    })

    it('leaves hardware whose Intune records are all stale to the stale rule', () => {
      const d = healthyRecords()
      d.intune.lastSyncDateTime = daysAgo(120)
      const view = onlyView(tenantOf({ intune: [d.intune, oldEnrollment()], entra: [d.entra] }))

      expect(runRule(rule, view)).toEqual({
        kind: 'notApplicable',
        reason: 'no Intune record is live; the stale rule judges the device',
      })
    })
  })
})
