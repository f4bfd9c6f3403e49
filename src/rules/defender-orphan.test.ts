/** @module Tests of the defender-orphan rule: built from the healthy device's Defender machine left on its own. */
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
  tenantOf,
} from '../../test/fixtures/tenant.js'
import type { DefenderRecord, DeviceView } from '../domain/device.js'
import rule from './defender-orphan.js'

const SECOND_MACHINE_ID = '4b0f3e9a1c2d5e6f7a8b9c0d1e2f3a4b5c6d7e8f'

/** The healthy device's Defender machine, last seen 120 days ago. */
function staleMachine(): DefenderRecord {
  const d = healthyRecords()
  d.defender.lastSeen = daysAgo(120)
  return d.defender
}

const defenderOnly = (...machines: DefenderRecord[]): DeviceView => onlyView(tenantOf({ defender: machines }))

describe('defender-orphan', () => {
  describe('when only Defender knows the machine and it stopped reporting', () => {
    it('flags the machine, naming the Entra device id that matches nothing, its age and the threshold', () => {
      const outcome = runRule(rule, defenderOnly(staleMachine()))

      expect(outcome).toEqual({
        kind: 'flag',
        message:
          `Only Defender knows this machine (its Entra device id "${IDS.entraDevice}" matches no Entra object) and it ` +
          'stopped reporting: Defender report 120 days ago (2026-07-04); threshold 90 days.',
        evidence: [
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(120) },
          { source: 'defender', recordId: IDS.defender, field: 'healthStatus', value: 'Active' },
          { source: 'defender', recordId: IDS.defender, field: 'aadDeviceId', value: IDS.entraDevice },
        ],
        targets: expect.any(Array),
      })
      expect(targetIds(outcome)).toEqual([`defender:${IDS.defender}`])
    })

    it('says no record matches when the machine carries no Entra device id', () => {
      const m = staleMachine()
      m.aadDeviceId = null

      const outcome = runRule(rule, defenderOnly(m))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        '(no Intune, Entra or Autopilot record matches it)',
      )
      expect(outcome.kind === 'flag' && outcome.evidence.map((e) => e.field)).toEqual([
        'lastSeen',
        'healthStatus',
      ])
    })

    it('flags a machine last seen 91 days ago, one day past the threshold', () => {
      const m = staleMachine()
      m.lastSeen = daysAgo(91)

      const outcome = runRule(rule, defenderOnly(m))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Defender report 91 days ago (2026-08-02)')
    })

    it('flags a machine last seen 60 days ago when the policy lowers the threshold to 30 days', () => {
      const m = staleMachine()
      m.lastSeen = daysAgo(60)

      const outcome = runRule(rule, defenderOnly(m), { params: { staleAfterDays: 30 } })

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('threshold 30 days')
    })

    it('targets only the machines that are still onboarded', () => {
      const offboarded = { ...staleMachine(), id: SECOND_MACHINE_ID, onboardingStatus: 'Offboarded' }

      const outcome = runRule(rule, defenderOnly(staleMachine(), offboarded))

      expect(outcome.kind).toBe('flag')
      expect(targetIds(outcome)).toEqual([`defender:${IDS.defender}`])
    })
  })

  describe('when the Defender-only machine still reports', () => {
    it('passes a server that only Defender knows but that reported yesterday', () => {
      const m = staleMachine()
      m.lastSeen = daysAgo(1)

      expect(runRule(rule, defenderOnly(m))).toEqual({
        kind: 'pass',
        message: 'Defender-only but reporting: Defender report 1 day ago (2026-10-31).',
      })
    })

    it('passes a machine last seen exactly 90 days ago, which is not yet stale', () => {
      const m = staleMachine()
      m.lastSeen = daysAgo(90)

      const outcome = runRule(rule, defenderOnly(m))

      expect(outcome.kind).toBe('pass')
      expect(outcome.kind === 'pass' && outcome.message).toContain('Defender report 90 days ago (2026-08-03)')
    })

    it('passes a machine last seen 60 days ago under the default 90-day threshold', () => {
      const m = staleMachine()
      m.lastSeen = daysAgo(60)

      expect(runRule(rule, defenderOnly(m)).kind).toBe('pass')
    })

    it('counts a lastSeen in the future as reporting today', () => {
      const m = staleMachine()
      m.lastSeen = daysAgo(-5)

      expect(runRule(rule, defenderOnly(m))).toEqual({
        kind: 'pass',
        message: 'Defender-only but reporting: Defender report today (2026-11-06).',
      })
    })

    it('passes when one of two entries of the machine still reports', () => {
      const live = { ...staleMachine(), id: SECOND_MACHINE_ID, lastSeen: daysAgo(1) }

      expect(runRule(rule, defenderOnly(staleMachine(), live)).kind).toBe('pass')
    })
  })

  describe('when activity cannot be judged', () => {
    it('is unknown, never stale, when lastSeen is blank', () => {
      const m = staleMachine()
      m.lastSeen = null

      expect(runRule(rule, defenderOnly(m))).toEqual({
        kind: 'unknown',
        reason: 'field-missing',
        detail: `Defender lastSeen is blank for "${IDS.defender}".`,
      })
    })
  })

  describe('when the rule does not apply', () => {
    it('does not apply to a device without a Defender machine', () => {
      const d = healthyRecords()

      expect(runRule(rule, onlyView(tenantFromDevice({ intune: d.intune, entra: d.entra })))).toEqual({
        kind: 'notApplicable',
        reason: 'no Defender machine',
      })
    })

    it('leaves the healthy device to the device-level rules', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason: 'other sources know this device; the device-level rules judge it',
      })
    })

    it.each<[string, (d: DeviceRecords) => Partial<DeviceRecords>]>([
      ['Entra', (d) => ({ entra: d.entra })],
      ['Intune', (d) => ({ intune: d.intune })],
      ['Autopilot', (d) => ({ autopilot: d.autopilot })],
    ])('never treats a stale machine as an orphan while %s knows the device', (_source, pick) => {
      const d = healthyRecords()
      d.defender.lastSeen = daysAgo(120)

      const outcome = runRule(rule, onlyView(tenantFromDevice({ ...pick(d), defender: d.defender })))

      expect(outcome).toMatchObject({
        kind: 'notApplicable',
        reason: expect.stringContaining('other sources know'),
      })
    })

    it.each(['Offboarded', 'CanBeOnboarded', 'Unsupported', 'InsufficientInfo'])(
      'does not apply to a stale machine whose onboarding status is %s',
      (status) => {
        const m = staleMachine()
        m.onboardingStatus = status

        expect(runRule(rule, defenderOnly(m))).toEqual({
          kind: 'notApplicable',
          reason: 'no machine is still onboarded',
        })
      },
    )
  })
})
