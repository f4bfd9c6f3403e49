/** @module Tests of the superseded-entra-object rule: the healthy device plus the Entra object and Intune record of an earlier join. */
import { describe, expect, it } from 'vitest'
import {
  type DeviceRecords,
  daysAgo,
  healthyRecords,
  iso,
  onlyView,
  runRule,
  targetIds,
  tenantFromDevice,
  tenantOf,
} from '../../test/fixtures/tenant.js'
import type { DefenderRecord, DeviceView, EntraRecord, IntuneRecord } from '../domain/device.js'
import rule from './superseded-entra-object.js'

const OLD_ENTRA_OBJECT_ID = '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6'
const OLD_ENTRA_DEVICE_ID = '3f1b7c2e-6a5d-4e8f-9b0c-1d2e3f4a5b6c'
const OLD_INTUNE_ID = '0c5e2a44-9d1b-4f0e-8b7a-3e2f1d0c9b8a'
const OLD_MACHINE_ID = '4b0f3e9a1c2d5e6f7a8b9c0d1e2f3a4b5c6d7e8f'

/** What the laptop left behind before it was re-imaged and re-joined: an Entra object and its Intune record, silent `days`. */
interface Earlier {
  entra: EntraRecord
  intune: IntuneRecord
}

function earlierJoin(days = 200): Earlier {
  const d = healthyRecords()
  return {
    entra: {
      ...d.entra,
      id: OLD_ENTRA_OBJECT_ID,
      deviceId: OLD_ENTRA_DEVICE_ID,
      approximateLastSignInDateTime: daysAgo(days),
    },
    intune: {
      ...d.intune,
      id: OLD_INTUNE_ID,
      azureADDeviceId: OLD_ENTRA_DEVICE_ID,
      lastSyncDateTime: daysAgo(days),
    },
  }
}

/** The device (healthy unless changed) together with the records of its earlier join, linked by serial number. */
function rejoined(
  old: Earlier,
  d: DeviceRecords = healthyRecords(),
  extraDefender: DefenderRecord[] = [],
): DeviceView {
  return onlyView(
    tenantOf({
      intune: [d.intune, old.intune],
      entra: [d.entra, old.entra],
      autopilot: [d.autopilot],
      defender: [d.defender, ...extraDefender],
    }),
  )
}

describe('superseded-entra-object', () => {
  describe('when an older Entra object of the same hardware is idle while a newer one is in use', () => {
    it('flags the old object, quoting both objects, their activity and the threshold', () => {
      const outcome = runRule(rule, rejoined(earlierJoin()))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          `Entra object "${OLD_ENTRA_OBJECT_ID}" (Entra sign-in 200 days ago (2026-04-15) and Intune check-in 200 days ago ` +
          '(2026-04-15)) is superseded by "LT-0107" (Entra sign-in 2 days ago (2026-10-30)) for the same hardware; ' +
          'threshold 90 days.',
        evidence: [
          {
            source: 'entra',
            recordId: OLD_ENTRA_OBJECT_ID,
            field: 'approximateLastSignInDateTime',
            value: iso(200),
          },
          { source: 'intune', recordId: OLD_INTUNE_ID, field: 'lastSyncDateTime', value: iso(200) },
        ],
        targets: expect.any(Array),
      })
    })

    it('targets only the old object and its old Intune record, never the live records', () => {
      const outcome = runRule(rule, rejoined(earlierJoin()))

      expect(targetIds(outcome)).toEqual([`entra:${OLD_ENTRA_OBJECT_ID}`, `intune:${OLD_INTUNE_ID}`])
    })

    it('flags an old join silent for 91 days, one day past the threshold', () => {
      const outcome = runRule(rule, rejoined(earlierJoin(91)))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Entra sign-in 91 days ago (2026-08-02)')
    })

    it('flags an old join silent for 60 days when the policy lowers the threshold to 30 days', () => {
      const outcome = runRule(rule, rejoined(earlierJoin(60)), { params: { staleAfterDays: 30 } })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
    })
  })

  describe('when every Entra object of the hardware is in use', () => {
    const message = 'Every Entra object of this hardware is in use.'

    it('passes when the old object signed in recently', () => {
      const old = earlierJoin()
      old.entra.approximateLastSignInDateTime = daysAgo(2)

      expect(runRule(rule, rejoined(old))).toEqual({ kind: 'pass', message })
    })

    it('never supersedes an old object whose own Intune record still checks in', () => {
      const old = earlierJoin()
      old.intune.lastSyncDateTime = daysAgo(1)

      expect(runRule(rule, rejoined(old))).toEqual({ kind: 'pass', message })
    })

    it('never supersedes an old object whose own Defender machine still reports', () => {
      const { defender } = healthyRecords()
      const oldMachine = {
        ...defender,
        id: OLD_MACHINE_ID,
        aadDeviceId: OLD_ENTRA_DEVICE_ID,
        lastSeen: daysAgo(1),
      }

      expect(runRule(rule, rejoined(earlierJoin(), healthyRecords(), [oldMachine]))).toEqual({
        kind: 'pass',
        message,
      })
    })

    it('passes an old join last seen exactly 90 days ago, which is not yet stale', () => {
      expect(runRule(rule, rejoined(earlierJoin(90)))).toEqual({ kind: 'pass', message })
    })

    it('passes an old join silent for 60 days under the default 90-day threshold', () => {
      expect(runRule(rule, rejoined(earlierJoin(60)))).toEqual({ kind: 'pass', message })
    })

    it('counts a sign-in in the future as in use', () => {
      const old = earlierJoin()
      old.entra.approximateLastSignInDateTime = daysAgo(-5)

      expect(runRule(rule, rejoined(old))).toEqual({ kind: 'pass', message })
    })
  })

  describe('when activity cannot be judged', () => {
    it('is unknown, never superseded, when the old object has a blank sign-in', () => {
      const old = earlierJoin()
      old.entra.approximateLastSignInDateTime = null

      expect(runRule(rule, rejoined(old))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: `Activity unknown for Entra object "${OLD_ENTRA_OBJECT_ID}".`,
      })
    })

    it("is unknown when the old object's Intune record has a blank check-in", () => {
      const old = earlierJoin()
      old.intune.lastSyncDateTime = null

      expect(runRule(rule, rejoined(old))).toMatchObject({ kind: 'unknown', reason: 'field-missing' })
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device with a single Entra object', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason: 'one Entra object at most',
      })
    })

    it('leaves hardware whose Entra objects are all idle to the stale rule', () => {
      const d = healthyRecords()
      d.intune.lastSyncDateTime = daysAgo(120)
      d.entra.approximateLastSignInDateTime = daysAgo(120)
      d.autopilot.lastContactedDateTime = daysAgo(120)
      d.defender.lastSeen = daysAgo(120)

      expect(runRule(rule, rejoined(earlierJoin(), d))).toEqual({
        kind: 'notApplicable',
        reason: 'no Entra object is live; the stale rule judges the device',
      })
    })
  })
})
