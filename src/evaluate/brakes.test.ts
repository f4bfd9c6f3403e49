/** @module Tests of the coverage brake: a source far smaller than its neighbours imply is not trusted; small tenants never trip it. */
import { describe, expect, it } from 'vitest'
import { healthyRecords, type TenantParts, tenantOf } from '../../test/fixtures/tenant.js'
import { correlate } from '../correlate/correlate.js'
import type { EntraRecord, IntuneRecord } from '../domain/device.js'
import { DEFAULT_POLICY, Policy } from '../domain/policy.js'
import { assessSources } from './brakes.js'

const hex = (i: number): string => i.toString(16).padStart(12, '0')

/** Device `i` of a fleet: an Intune-managed Entra object and, optionally, its Intune record. */
function fleetDevice(i: number): { entra: EntraRecord; intune: IntuneRecord } {
  const d = healthyRecords()
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

/** `total` Intune-managed Entra devices, of which the first `withIntune` have an Intune record. */
function fleet(total: number, withIntune: number, extra: TenantParts = {}) {
  const devices = Array.from({ length: total }, (_, i) => fleetDevice(i))
  return tenantOf({
    entra: devices.map((d) => d.entra),
    intune: devices.slice(0, withIntune).map((d) => d.intune),
    ...extra,
  })
}

function assess(data: ReturnType<typeof tenantOf>, policy = DEFAULT_POLICY) {
  return assessSources(data, correlate(data).views, policy)
}

describe('assessSources', () => {
  it('trusts every connected source of a complete tenant and warns about nothing', () => {
    const { states, warnings } = assess(fleet(12, 12))

    expect(states).toEqual({
      intune: { status: 'ok', trusted: true },
      entra: { status: 'ok', trusted: true },
      autopilot: { status: 'ok', trusted: true },
      defender: { status: 'ok', trusted: true },
    })
    expect(warnings).toEqual({})
  })

  it('reports a missing or failed source as such and never trusts it', () => {
    const { states } = assess(fleet(2, 2, { autopilot: 'missing', defender: 'error' }))

    expect(states.autopilot).toEqual({ status: 'missing', trusted: false })
    expect(states.defender).toEqual({ status: 'error', trusted: false })
  })

  describe('the Intune brake', () => {
    it('distrusts an empty Intune export while 10 Entra devices record Intune management, and says so with the numbers', () => {
      const { states, warnings } = assess(fleet(10, 0))

      expect(states.intune).toEqual({ status: 'ok', trusted: false })
      expect(warnings.intune).toContain(
        'Intune returned 0 records, but only 0 of the 10 Entra devices that record Intune management (0 %) have one.',
      )
      expect(warnings.intune).toContain('"removed from Intune" findings are reported as unknown')
      expect(warnings.intune).toContain('brakes.minMatchShare')
    })

    it('trips on a truncated export: 4 of 10 matched is below half', () => {
      const { states, warnings } = assess(fleet(10, 4))

      expect(states.intune.trusted).toBe(false)
      expect(warnings.intune).toContain(
        'Intune returned 4 records, but only 4 of the 10 Entra devices that record Intune management (40 %) have one.',
      )
    })

    it('does not trip at exactly the minimum share: 5 of 10 matched', () => {
      const { states, warnings } = assess(fleet(10, 5))

      expect(states.intune.trusted).toBe(true)
      expect(warnings.intune).toBeUndefined()
    })

    it('never trips below the minimum number of implied records: 0 of 9 matched', () => {
      expect(assess(fleet(9, 0)).states.intune.trusted).toBe(true)
    })

    it('does not trip on a small tenant where 1 of 2 devices left Intune', () => {
      const { states, warnings } = assess(fleet(2, 1))

      expect(states.intune.trusted).toBe(true)
      expect(warnings).toEqual({})
    })

    it('uses the policy thresholds', () => {
      const policy = Policy.parse({ brakes: { minImpliedRecords: 2, minMatchShare: 0.5 } })

      expect(assess(fleet(2, 0), policy).states.intune.trusted).toBe(false)
      expect(assess(fleet(2, 1), policy).states.intune.trusted).toBe(true)
      expect(
        assess(fleet(10, 4), Policy.parse({ brakes: { minImpliedRecords: 10, minMatchShare: 0.3 } })).states
          .intune.trusted,
      ).toBe(true)
    })

    it('ignores Entra devices that do not record Intune management', () => {
      const data = fleet(10, 0)
      for (const e of data.entra.records) {
        e.isManaged = false
        e.mdmAppId = null
      }

      expect(assess(data).states.intune.trusted).toBe(true)
    })

    it('does not judge Intune when Entra is not connected', () => {
      const { states, warnings } = assess(fleet(0, 0, { entra: 'missing' }))

      expect(states.intune).toEqual({ status: 'ok', trusted: true })
      expect(warnings).toEqual({})
    })
  })

  describe('the Entra brake', () => {
    /** `total` Intune records naming Entra devices, of which the first `inEntra` exist in Entra. */
    function intuneFleet(total: number, inEntra: number) {
      const devices = Array.from({ length: total }, (_, i) => fleetDevice(i))
      return tenantOf({
        intune: devices.map((d) => d.intune),
        entra: devices.slice(0, inEntra).map((d) => d.entra),
      })
    }

    it('distrusts an Entra export that lacks most of the devices Intune records name, with the numbers', () => {
      const { states, warnings } = assess(intuneFleet(10, 0))

      expect(states.entra).toEqual({ status: 'ok', trusted: false })
      expect(warnings.entra).toContain(
        'Entra returned 0 devices, but only 0 of the 10 Entra device ids that Intune records name (0 %) exist in it.',
      )
      expect(states.intune.trusted).toBe(true)
    })

    it('trusts Entra when half of the named devices exist', () => {
      expect(assess(intuneFleet(10, 5)).states.entra.trusted).toBe(true)
    })

    it('never trips on a small tenant', () => {
      expect(assess(intuneFleet(3, 0)).states.entra.trusted).toBe(true)
    })
  })
})
