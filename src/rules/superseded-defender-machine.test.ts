/** @module Tests of the superseded-defender-machine rule: the healthy device plus the Defender entry of an earlier onboarding. */
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
import type { DefenderRecord, DeviceView } from '../domain/device.js'
import rule from './superseded-defender-machine.js'

const OLD_MACHINE_ID = '4b0f3e9a1c2d5e6f7a8b9c0d1e2f3a4b5c6d7e8f'

/** The entry the laptop left in Defender before it was re-onboarded: same Entra device id, silent 200 days. */
function oldMachine(): DefenderRecord {
  const { defender } = healthyRecords()
  return { ...defender, id: OLD_MACHINE_ID, firstSeen: daysAgo(900), lastSeen: daysAgo(200) }
}

/** The device (healthy unless changed) with a second Defender entry. */
function withOld(old: DefenderRecord, live: DefenderRecord = healthyRecords().defender): DeviceView {
  const d = healthyRecords()
  return onlyView(
    tenantOf({ intune: [d.intune], entra: [d.entra], autopilot: [d.autopilot], defender: [live, old] }),
  )
}

describe('superseded-defender-machine', () => {
  describe('when an older entry of the same device stopped reporting', () => {
    it('flags the old entry, naming both entries, their ages and the threshold', () => {
      const outcome = runRule(rule, withOld(oldMachine()))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          `Defender machine "${OLD_MACHINE_ID}" (Defender report 200 days ago (2026-04-15)) is superseded by ` +
          `"${IDS.defender}" (Defender report 1 day ago (2026-10-31)); threshold 90 days.`,
        evidence: [
          { source: 'defender', recordId: OLD_MACHINE_ID, field: 'lastSeen', value: iso(200) },
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(1) },
        ],
        targets: expect.any(Array),
      })
    })

    it('targets only the old entry, never the live one', () => {
      expect(targetIds(runRule(rule, withOld(oldMachine())))).toEqual([`defender:${OLD_MACHINE_ID}`])
    })

    it('flags an old entry whose exclusion state is unknown', () => {
      const old = oldMachine()
      old.isExcluded = null

      expect(runRule(rule, withOld(old)).kind).toBe('flag')
    })

    it('flags an old entry silent for 91 days, one day past the threshold', () => {
      const old = oldMachine()
      old.lastSeen = daysAgo(91)

      const outcome = runRule(rule, withOld(old))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Defender report 91 days ago (2026-08-02)')
    })

    it('flags an old entry silent for 60 days when the policy lowers the threshold to 30 days', () => {
      const old = oldMachine()
      old.lastSeen = daysAgo(60)

      const outcome = runRule(rule, withOld(old), { params: { staleAfterDays: 30 } })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
    })
  })

  describe('when nothing is left to exclude', () => {
    const message = 'Every Defender entry of this device reports.'

    it('passes two entries that both reported recently', () => {
      const old = oldMachine()
      old.lastSeen = daysAgo(2)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('passes an old entry that reported exactly 90 days ago, which is not yet stale', () => {
      const old = oldMachine()
      old.lastSeen = daysAgo(90)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('passes an old entry silent for 60 days under the default 90-day threshold', () => {
      const old = oldMachine()
      old.lastSeen = daysAgo(60)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('counts a lastSeen in the future as reporting', () => {
      const old = oldMachine()
      old.lastSeen = daysAgo(-5)

      expect(runRule(rule, withOld(old))).toEqual({ kind: 'pass', message })
    })

    it('passes when the superseded entry is already excluded', () => {
      const old = oldMachine()
      old.isExcluded = true

      expect(runRule(rule, withOld(old))).toEqual({
        kind: 'pass',
        message: 'The superseded Defender entries are already excluded.',
      })
    })
  })

  describe('when a report date cannot be judged', () => {
    it('is unknown, never superseded, when the old entry has a blank lastSeen', () => {
      const old = oldMachine()
      old.lastSeen = null

      expect(runRule(rule, withOld(old))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: `lastSeen unknown for "${OLD_MACHINE_ID}".`,
      })
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device with a single Defender entry', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason: 'one Defender machine at most',
      })
    })

    it('leaves a device whose entries are all silent to the device-level rules', () => {
      const live = healthyRecords().defender
      live.lastSeen = daysAgo(120)

      expect(runRule(rule, withOld(oldMachine(), live))).toEqual({
        kind: 'notApplicable',
        reason: 'no machine entry is live; the device-level rules judge it',
      })
    })
  })
})
