/** @module End-to-end tests of analyze on small tenants, and the safety invariants of decisions.md as explicit cases. */
import { describe, expect, it } from 'vitest'
import {
  type DeviceRecords,
  daysAgo,
  healthyRecords,
  IDS,
  NOW,
  type TenantParts,
  tenantFromDevice,
  tenantOf,
} from '../test/fixtures/tenant.js'
import { analyze } from './analyze.js'
import type { Action } from './domain/action.js'
import type { EntraRecord, IntuneRecord, SourceName } from './domain/device.js'
import { DEFAULT_POLICY, Policy } from './domain/policy.js'
import type { Report } from './domain/report.js'

/** The healthy device, last seen by every source `days` ago. */
function staleRecords(days = 120): DeviceRecords {
  const d = healthyRecords()
  d.intune.lastSyncDateTime = daysAgo(days)
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

/** The stale device whose Intune record was deleted (the seeds' headline case). */
function removedFromIntune(days = 120): Partial<DeviceRecords> {
  const { entra, autopilot, defender } = staleRecords(days)
  return { entra, autopilot, defender }
}

const run = (
  d: Partial<DeviceRecords>,
  policy = DEFAULT_POLICY,
  extra: Omit<TenantParts, 'intune' | 'entra' | 'autopilot' | 'defender'> = {},
): Report => analyze(tenantFromDevice(d, extra), { now: NOW, policy })

const actionsOf = (report: Report): Action[] => report.suggestions.flatMap((s) => s.actions)
const plan = (report: Report) =>
  actionsOf(report).map((a) => [a.step, a.system, a.operation, a.target, a.automation])

/** Sets the activity timestamp of one source's record. */
function seen(d: Partial<DeviceRecords>, source: SourceName, days: number): void {
  if (source === 'intune' && d.intune) d.intune.lastSyncDateTime = daysAgo(days)
  if (source === 'entra' && d.entra) d.entra.approximateLastSignInDateTime = daysAgo(days)
  if (source === 'autopilot' && d.autopilot) d.autopilot.lastContactedDateTime = daysAgo(days)
  if (source === 'defender' && d.defender) d.defender.lastSeen = daysAgo(days)
}

const hex = (i: number): string => i.toString(16).padStart(12, '0')

/** Device `i` of a fleet: an Intune-managed Entra object idle for 200 days, and its Intune record. */
function fleetDevice(i: number): { entra: EntraRecord; intune: IntuneRecord } {
  const d = staleRecords(200)
  const deviceId = `d0000000-0000-4000-8000-${hex(i)}`
  return {
    entra: {
      ...d.entra,
      id: `e0000000-0000-4000-8000-${hex(i)}`,
      deviceId,
      displayName: `LT-${i}`,
      autopilotRegistered: false,
    },
    intune: {
      ...d.intune,
      id: `10000000-0000-4000-8000-${hex(i)}`,
      azureADDeviceId: deviceId,
      deviceName: `LT-${i}`,
      serialNumber: `SN${i}`,
      serialKey: `SN${i}`,
    },
  }
}

describe('analyze', () => {
  describe('small tenants', () => {
    it('suggests nothing for the healthy device and says so', () => {
      const report = run(healthyRecords())

      expect(report.suggestions).toEqual([])
      expect(report.skipped).toEqual([])
      expect(report.undetermined).toEqual([])
      expect(report.summary.text).toBe('There are no devices to offboard.')
      expect(report.summary.counts).toMatchObject({ devices: 1, suggestions: 0, actions: 0 })
      expect(report.summary.warnings).toEqual([])
      expect(report.sources.intune).toEqual({ status: 'ok', records: 1 })
      expect(report.asOf).toBe('2026-11-01T00:00:00.000Z')
    })

    it('plans the removed-from-Intune device: Autopilot, then Entra disable (agent), then Defender', () => {
      const report = run(removedFromIntune())

      expect(report.suggestions).toHaveLength(1)
      const s = report.suggestions[0]!
      expect(s).toMatchObject({ category: 'removedFromIntune', severity: 'high' })
      expect(s.findings[0]!.rule).toBe('removed-from-intune')
      expect(s.findings.map((f) => f.rule)).toContain('autopilot-leftover')
      expect(plan(report)).toEqual([
        [1, 'autopilot', 'unassignUser', IDS.autopilot, 'optIn'],
        [2, 'autopilot', 'delete', IDS.autopilot, 'optIn'],
        [3, 'entra', 'disable', IDS.entraObject, 'agent'],
        [4, 'defender', 'offboard', IDS.defender, 'optIn'],
      ])
      expect(actionsOf(report)[3]!.request?.body).toEqual({
        Comment: 'Offboarded by offboard: device retired (removedFromIntune).',
      })
      expect(report.summary.text).toMatch(/^There is 1 device /)
      expect(report.summary.text).toContain('no longer in Intune but still in other portals')
      expect(report.summary.factors).toEqual([
        'Users accessing corporate apps without MDM enrollment.',
        'Cannot enforce compliance policies or data protection.',
        'Personal devices may have corporate data without proper controls.',
        'Conditional access limited to user-based policies only.',
      ])
      expect(report.summary.counts).toMatchObject({
        devices: 1,
        suggestions: 1,
        byCategory: { removedFromIntune: 1 },
        actions: 4,
      })
    })

    it('plans the stale device in the documented order, Intune first', () => {
      const report = run(staleRecords())

      expect(report.suggestions.map((s) => s.category)).toEqual(['stale'])
      expect(plan(report)).toEqual([
        [1, 'intune', 'delete', IDS.intune, 'optIn'],
        [2, 'autopilot', 'unassignUser', IDS.autopilot, 'optIn'],
        [3, 'autopilot', 'delete', IDS.autopilot, 'optIn'],
        [4, 'entra', 'disable', IDS.entraObject, 'agent'],
        [5, 'defender', 'offboard', IDS.defender, 'optIn'],
      ])
      expect(actionsOf(report)[2]!.prerequisites[0]).toContain('The Intune record is deleted')
    })

    it('does not flag a device seen exactly at the threshold', () => {
      expect(run(staleRecords(90)).suggestions).toEqual([])
    })

    it('follows a per-rule window from the policy', () => {
      const policy = Policy.parse({ rules: { 'stale-everywhere': { staleAfterDays: 180 } } })

      expect(run(staleRecords(120), policy).suggestions).toEqual([])
      expect(run(staleRecords(200), policy).suggestions.map((s) => s.category)).toEqual(['stale'])
    })

    // The summary must state the window the stale rule used: with a 60-day override, "more than 90 days" is false
    // for a device last seen 70 days ago (decisions.md: the threshold is per rule, overridable by policy).
    it('states the window the stale rule actually used in the summary', () => {
      const policy = Policy.parse({ rules: { 'stale-everywhere': { staleAfterDays: 60 } } })

      const report = run(staleRecords(70), policy)

      expect(report.suggestions.map((s) => s.category)).toEqual(['stale'])
      expect(report.summary.text).not.toContain('more than 90 days')
      expect(report.summary.text).toContain('more than 60 days')
    })

    it('reports a device with an unknown timestamp as undetermined, never stale', () => {
      const d = staleRecords()
      d.entra.approximateLastSignInDateTime = null

      const report = run(d)

      expect(report.suggestions).toEqual([])
      expect(report.undetermined).toHaveLength(1)
      expect(report.undetermined[0]!.reasons).toContainEqual(
        expect.objectContaining({ rule: 'stale-everywhere', reason: 'field-missing' }),
      )
      expect(report.summary.text).toContain('1 device could not be judged')
    })

    it('reports the removed-from-Intune device as undetermined when Defender could not be read', () => {
      const { entra, autopilot } = removedFromIntune()

      const report = analyze(
        tenantOf({ entra: [entra!], autopilot: [autopilot!], intune: [], defender: 'error' }),
        { now: NOW },
      )

      expect(actionsOf(report)).toEqual([])
      expect(report.undetermined[0]!.reasons).toContainEqual(
        expect.objectContaining({ rule: 'removed-from-intune', reason: 'source-unavailable' }),
      )
      expect(report.summary.warnings.join(' ')).toContain('could not be read')
    })

    it('reports the removed-from-Intune device as undetermined when Intune is not connected', () => {
      const { entra, defender } = removedFromIntune()

      const report = analyze(tenantOf({ entra: [entra!], defender: [defender!], intune: 'missing' }), {
        now: NOW,
      })

      expect(actionsOf(report)).toEqual([])
      expect(report.undetermined).toHaveLength(1)
      expect(report.sources.intune.warning).toContain('is not connected')
    })
  })

  describe('safety invariants', () => {
    describe('a device active in any source never gets a destructive action', () => {
      it.each(['intune', 'entra', 'autopilot', 'defender'] as const)(
        'stale everywhere but seen by %s 5 days ago',
        (source) => {
          const d = staleRecords()
          seen(d, source, 5)

          expect(actionsOf(run(d))).toEqual([])
        },
      )

      it.each(['entra', 'autopilot', 'defender'] as const)(
        'removed from Intune but seen by %s 5 days ago: a review, no actions',
        (source) => {
          const d = removedFromIntune()
          seen(d, source, 5)

          const report = run(d)

          expect(actionsOf(report)).toEqual([])
          expect(report.suggestions.map((s) => s.category)).toEqual(['review'])
        },
      )

      it('seen by Intune only yesterday while every other source is silent for years', () => {
        const d = staleRecords(1500)
        seen(d, 'intune', 1)

        expect(actionsOf(run(d))).toEqual([])
      })
    })

    describe('an out-of-scope device never has actions', () => {
      const cases: [string, (d: DeviceRecords) => void, Policy?][] = [
        [
          'hybridJoined',
          (d) => {
            d.entra.trustType = 'ServerAd'
          },
        ],
        [
          'sharedDevice',
          (d) => {
            d.entra.profileType = 'Shared'
          },
        ],
        [
          'systemManaged',
          (d) => {
            d.entra.profileType = 'Printer'
          },
        ],
        [
          'excludedByPolicy',
          () => {},
          Policy.parse({ exclude: [{ field: 'name', pattern: 'LT-*', label: 'keep laptops' }] }),
        ],
      ]

      it.each(cases)('%s', (reason, change, policy) => {
        const d = staleRecords()
        change(d)

        const report = run(d, policy)

        expect(report.suggestions).toEqual([])
        expect(report.skipped).toHaveLength(1)
        expect(report.skipped[0]).toMatchObject({ reason, wouldBe: ['stale'] })
        expect(report.summary.text).toContain(
          '1 out-of-scope device was skipped (1 would otherwise have been flagged).',
        )
      })

      it('teamsPhone (serial in the Teams inventory)', () => {
        const report = run(staleRecords(), DEFAULT_POLICY, { teamsSerials: new Set([IDS.serial]) })

        expect(report.suggestions).toEqual([])
        expect(report.skipped.map((s) => s.reason)).toEqual(['teamsPhone'])
      })

      it('ambiguousMatch (two Entra objects share the device id)', () => {
        const d = staleRecords()
        const twin = { ...d.entra, id: 'f1f1f1f1-0000-4000-8000-000000000001' }

        const report = analyze(
          tenantOf({
            intune: [d.intune],
            entra: [d.entra, twin],
            autopilot: [d.autopilot],
            defender: [d.defender],
          }),
          { now: NOW },
        )

        expect(report.suggestions).toEqual([])
        expect(report.skipped.map((s) => s.reason)).toEqual(['ambiguousMatch'])
      })

      it('the removed-from-Intune hybrid device', () => {
        const d = removedFromIntune()
        d.entra!.trustType = 'ServerAd'

        const report = run(d)

        expect(report.suggestions).toEqual([])
        expect(report.skipped[0]!.wouldBe).toContain('removedFromIntune')
      })
    })

    describe('an enabled Entra object is never deleted', () => {
      it('disables, never deletes, an enabled object idle for years', () => {
        const d = staleRecords(2000)
        d.entra.autopilotRegistered = false

        const report = run({ intune: d.intune, entra: d.entra, defender: d.defender })

        expect(
          actionsOf(report)
            .filter((a) => a.system === 'entra')
            .map((a) => a.operation),
        ).toEqual(['disable'])
      })

      it('control: deletes a disabled, unbound object idle past the grace period', () => {
        const d = staleRecords(2000)
        d.entra.accountEnabled = false
        d.entra.autopilotRegistered = false

        const report = run({ intune: d.intune, entra: d.entra })

        expect(actionsOf(report).filter((a) => a.system === 'entra')).toMatchObject([
          { operation: 'delete', target: IDS.entraObject },
        ])
      })
    })

    describe('an Autopilot-bound Entra object is never deleted', () => {
      it('when the device has an Autopilot identity', () => {
        const d = staleRecords(2000)
        d.entra.accountEnabled = false
        d.entra.autopilotRegistered = false

        const report = run(d)

        expect(report.suggestions).toHaveLength(1)
        expect(actionsOf(report).filter((a) => a.system === 'entra')).toEqual([])
      })

      it('when the object carries a ZTDID but no Autopilot identity was exported', () => {
        const d = staleRecords(2000)
        d.entra.accountEnabled = false
        d.entra.autopilotRegistered = true

        const report = run({ intune: d.intune, entra: d.entra, defender: d.defender })

        expect(report.suggestions).toHaveLength(1)
        expect(actionsOf(report).filter((a) => a.system === 'entra')).toEqual([])
      })
    })

    describe('a personal device is never wiped or deleted', () => {
      it.each([
        ['windows', 'windowsAzureADJoin'],
        ['android', 'androidEnterpriseFullyManaged'],
        ['android', 'androidEnterprisePersonalWorkProfile'],
        ['iOS', 'appleUserEnrollment'],
      ] as const)('a stale personal %s device (%s) is retired', (platform, enrollment) => {
        const d = staleRecords()
        d.intune.ownership = 'personal'
        d.intune.platform = platform
        d.intune.deviceEnrollmentType = enrollment
        d.entra.ownership = 'personal'
        d.entra.platform = platform
        d.entra.autopilotRegistered = false

        const report = run({ intune: d.intune, entra: d.entra })
        const intune = actionsOf(report).filter((a) => a.system === 'intune')

        expect(intune.map((a) => a.operation)).toEqual(['retire'])
        expect(actionsOf(report).some((a) => a.operation === 'wipe')).toBe(false)
        expect(intune[0]!.request).toMatchObject({
          method: 'POST',
          path: `/deviceManagement/managedDevices/${IDS.intune}/retire`,
        })
        expect(intune[0]!.warnings.join(' ')).not.toContain('WIPE')
      })
    })

    describe('the coverage brake', () => {
      it('turns an empty Intune export beside 12 Intune-managed Entra devices into undetermined devices and no actions', () => {
        const devices = Array.from({ length: 12 }, (_, i) => fleetDevice(i))

        const report = analyze(tenantOf({ entra: devices.map((d) => d.entra), intune: [] }), { now: NOW })

        expect(report.suggestions.filter((s) => s.actions.length > 0)).toEqual([])
        expect(actionsOf(report)).toEqual([])
        expect(report.undetermined).toHaveLength(12)
        for (const u of report.undetermined) {
          expect(u.reasons).toContainEqual(
            expect.objectContaining({ rule: 'removed-from-intune', reason: 'source-unavailable' }),
          )
        }
        expect(report.sources.intune.warning).toContain(
          'only 0 of the 12 Entra devices that record Intune management (0 %)',
        )
        expect(report.summary.warnings).toContain(report.sources.intune.warning)
        expect(report.summary.text).toContain('12 devices could not be judged and are reported as unknown.')
      })

      it('keeps the brake on when the devices are in use: reviews become unknown, still no actions', () => {
        const devices = Array.from({ length: 12 }, (_, i) => fleetDevice(i))
        for (const d of devices) d.entra.approximateLastSignInDateTime = daysAgo(3)

        const report = analyze(tenantOf({ entra: devices.map((d) => d.entra), intune: [] }), { now: NOW })

        expect(actionsOf(report)).toEqual([])
        expect(report.suggestions).toEqual([])
        expect(report.undetermined).toHaveLength(12)
      })

      it('does not trip on a small tenant: 1 matched of 2, and the unmatched device is suggested', () => {
        const [kept, removed] = [fleetDevice(1), fleetDevice(2)]
        kept.entra.approximateLastSignInDateTime = daysAgo(1)
        kept.intune.lastSyncDateTime = daysAgo(1)

        const report = analyze(tenantOf({ entra: [kept.entra, removed.entra], intune: [kept.intune] }), {
          now: NOW,
        })

        expect(report.sources.intune.warning).toBeUndefined()
        expect(report.suggestions.map((s) => [s.category, s.device.displayName])).toEqual([
          ['removedFromIntune', 'LT-2'],
        ])
        expect(plan(report)).toEqual([[1, 'entra', 'disable', removed.entra.id, 'agent']])
        expect(report.undetermined).toEqual([])
      })
    })
  })

  it('is deterministic: the same tenant gives the same report', () => {
    const a = run(removedFromIntune())
    const b = run(removedFromIntune())

    expect(b).toEqual(a)
  })

  it('with consume, empties the records lists it was handed and reports exactly what it reports without', () => {
    const kept = tenantFromDevice(removedFromIntune())
    const handed = tenantFromDevice(removedFromIntune())
    const expected = analyze(kept, { now: NOW })
    expect(analyze(handed, { now: NOW, consume: true })).toEqual(expected)
    expect(expected.sources.entra.records).toBe(1)
    expect(expected.suggestions).toHaveLength(1)
    expect([handed.intune, handed.entra, handed.autopilot, handed.defender].map((l) => l.records)).toEqual([
      [],
      [],
      [],
      [],
    ])
    expect(kept.entra.records).toHaveLength(1)
  })
})
