/** @module Tests of the entra-link-broken rule: built from the healthy device with its Entra object deleted. */
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
  tenantOf,
} from '../../test/fixtures/tenant.js'
import type { DeviceView } from '../domain/device.js'
import rule from './entra-link-broken.js'
import type { Outcome } from './rule.js'

/** The healthy device whose Entra object was deleted; Intune, Autopilot and Defender last saw it `days` ago. */
function orphanedRecords(days: number): DeviceRecords {
  const d = healthyRecords()
  d.intune.lastSyncDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const withoutEntra = (d: DeviceRecords): DeviceView =>
  onlyView(tenantFromDevice({ intune: d.intune, autopilot: d.autopilot, defender: d.defender }))
const run = (d: DeviceRecords, params?: { staleAfterDays: number }): Outcome =>
  runRule(rule, withoutEntra(d), params ? { params } : {})

describe('entra-link-broken', () => {
  describe('when the Intune record names a deleted Entra device and the device is in use', () => {
    it('flags it for review with no targets, quoting both ids and the activity', () => {
      expect(run(healthyRecords())).toEqual({
        kind: 'flag',
        message:
          `Intune record "${IDS.intune}" names Entra device "${IDS.entraDevice}", which does not exist, while the device ` +
          'is in use (Intune check-in 1 day ago (2026-10-31), Autopilot contact 1 day ago (2026-10-31) and ' +
          'Defender report 1 day ago (2026-10-31)).',
        evidence: [
          { source: 'intune', recordId: IDS.intune, field: 'azureADDeviceId', value: IDS.entraDevice },
          { source: 'intune', recordId: IDS.intune, field: 'lastSyncDateTime', value: iso(1) },
          { source: 'autopilot', recordId: IDS.autopilot, field: 'lastContactedDateTime', value: iso(1) },
          { source: 'defender', recordId: IDS.defender, field: 'lastSeen', value: iso(1) },
        ],
        targets: [],
      })
    })

    it('flags a device that only Defender saw recently', () => {
      const d = orphanedRecords(120)
      d.defender.lastSeen = daysAgo(1)

      const outcome = run(d)

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain(
        'while the device is in use (Defender report 1 day ago (2026-10-31))',
      )
    })

    it('flags a device last seen exactly 90 days ago, which still counts as in use', () => {
      const outcome = run(orphanedRecords(90))

      expect(outcome.kind).toBe('flag')
      expect(outcome.kind === 'flag' && outcome.message).toContain('Intune check-in 90 days ago (2026-08-03)')
    })

    it('flags a device last seen 60 days ago under the default 90-day threshold', () => {
      expect(run(orphanedRecords(60)).kind).toBe('flag')
    })

    it('counts a check-in in the future as in use today', () => {
      const d = orphanedRecords(120)
      d.intune.lastSyncDateTime = daysAgo(-5)

      const outcome = run(d)

      expect(outcome.kind === 'flag' && outcome.message).toContain('(Intune check-in today (2026-11-06))')
    })
  })

  describe('when the device is not in use', () => {
    const reason = 'not seen in use; the stale rule judges the device'

    it('leaves a device no source saw for 120 days', () => {
      expect(run(orphanedRecords(120))).toEqual({ kind: 'notApplicable', reason })
    })

    it('leaves a device last seen 91 days ago, one day past the threshold', () => {
      expect(run(orphanedRecords(91))).toEqual({ kind: 'notApplicable', reason })
    })

    it('leaves a device last seen 60 days ago when the policy lowers the threshold to 30 days', () => {
      expect(run(orphanedRecords(60), { staleAfterDays: 30 })).toEqual({ kind: 'notApplicable', reason })
    })

    it('does not raise the review, nor guess a pass, on a blank check-in when the other sources are stale', () => {
      const d = orphanedRecords(120)
      d.intune.lastSyncDateTime = null

      expect(run(d)).toEqual({ kind: 'notApplicable', reason })
    })
  })

  describe('when the rule does not apply', () => {
    const reason = 'no Intune record points at a missing Entra device'

    it('does not apply to the healthy device, whose Entra object exists', () => {
      expect(runRule(rule, onlyView(tenantFromDevice(healthyRecords())))).toEqual({
        kind: 'notApplicable',
        reason,
      })
    })

    it('does not apply when the Intune record names no Entra device', () => {
      const d = healthyRecords()
      d.intune.azureADDeviceId = null

      expect(runRule(rule, onlyView(tenantFromDevice({ intune: d.intune })))).toEqual({
        kind: 'notApplicable',
        reason,
      })
    })

    it('does not read a missing Entra export as a deleted Entra object', () => {
      const d = healthyRecords()
      const view = onlyView(
        tenantOf({ intune: [d.intune], entra: 'missing', autopilot: [d.autopilot], defender: [d.defender] }),
      )

      expect(runRule(rule, view)).toEqual({ kind: 'notApplicable', reason })
    })

    it('does not read a failed Entra export as a deleted Entra object', () => {
      const d = healthyRecords()
      const view = onlyView(
        tenantOf({ intune: [d.intune], entra: 'error', autopilot: [d.autopilot], defender: [d.defender] }),
      )

      expect(runRule(rule, view)).toEqual({ kind: 'notApplicable', reason })
    })
  })
})
