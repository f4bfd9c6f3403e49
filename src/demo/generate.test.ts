/** @module Tests of the demo-tenant generator: determinism, coverage of every situation, join invariants and streaming output. */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEMO_AS_OF,
  DEMO_SITUATIONS,
  type DemoDevice,
  type DemoRecords,
  type DemoSituation,
  type DemoTenant,
  generateDemoTenant,
  iterateDemoDevices,
  SITUATION_RATES,
  writeDemoSnapshot,
} from './generate.js'
import { isoSeconds, SOURCE_FILES, ZERO_DATE, ZERO_GUID } from './records.js'

const DAY_MS = 86_400_000
const AS_OF_MS = Date.parse(DEMO_AS_OF)
const SMALL = { devices: 200, seed: 1 }
const MEDIUM = { devices: 3000, seed: 7 }
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const MACHINE_ID = /^[0-9a-f]{40}$/
const GRAPH_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const TEAMS_MAKERS = ['Yealink', 'Poly', 'AudioCodes', 'Crestron', 'Logitech', 'Neat']
const PLACEHOLDERS = ['To be filled by O.E.M.', 'Default string', '0', 'System Serial Number']
const USERLESS_ENROLLMENTS = [
  'windowsBulkUserless',
  'appleBulkWithoutUser',
  'androidEnterpriseDedicatedDevice',
]

// Field names and order of the sample exports in ../shared/scenarios (copied here so the test stands alone).
const SCENARIO_FIELDS = {
  managedDevices:
    'id deviceName userPrincipalName userDisplayName managedDeviceOwnerType enrolledDateTime lastSyncDateTime operatingSystem osVersion complianceState managementAgent deviceEnrollmentType deviceRegistrationState azureADRegistered azureADDeviceId serialNumber manufacturer model isSupervised deviceCategoryDisplayName emailAddress wiFiMacAddress totalStorageSpaceInBytes freeStorageSpaceInBytes',
  devices:
    'id deviceId displayName accountEnabled approximateLastSignInDateTime registrationDateTime operatingSystem operatingSystemVersion trustType profileType isManaged isCompliant mdmAppId deviceOwnership enrollmentType managementType onPremisesSyncEnabled onPremisesLastSyncDateTime physicalIds systemLabels extensionAttributes',
  windowsAutopilotDeviceIdentities:
    'id groupTag purchaseOrderIdentifier serialNumber productKey manufacturer model enrollmentState lastContactedDateTime addressableUserName userPrincipalName azureActiveDirectoryDeviceId managedDeviceId displayName',
  // Real Defender responses add mergedIntoMachineId and isPotentialDuplication (reference §4.2).
  machines:
    'id computerDnsName firstSeen lastSeen osPlatform version osBuild osProcessor agentVersion lastIpAddress lastExternalIpAddress healthStatus onboardingStatus rbacGroupId rbacGroupName riskScore exposureLevel isAadJoined aadDeviceId machineTags deviceValue managedBy isExcluded mergedIntoMachineId isPotentialDuplication',
} as const

function ageDays(timestamp: string | null): number {
  if (timestamp === null) return Number.NaN
  return (AS_OF_MS - Date.parse(timestamp)) / DAY_MS
}

function within(timestamp: string | null, min: number, max: number): boolean {
  const age = ageDays(timestamp)
  return age >= min && age <= max
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

function duplicates<T>(items: readonly T[], key: (item: T) => string): string[] {
  return [...countBy(items, key)].filter(([, n]) => n > 1).map(([k]) => k)
}

/** Every timestamp-like string in a record tree, with its path. */
function timestamps(value: unknown, path = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return /DateTime$|firstSeen$|lastSeen$/.test(path) ? [{ path, value }] : []
  if (Array.isArray(value)) return value.flatMap((v, i) => timestamps(v, `${path}[${i}]`))
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => timestamps(v, path ? `${path}.${k}` : k))
  }
  return []
}

/** What each situation must look like in the raw exports; a generator change that blurs one fails here. */
const LOOKS_LIKE: Record<DemoSituation, (r: DemoRecords) => boolean> = {
  healthy: (r) =>
    r.devices.length === 1 &&
    r.managedDevices.length === 1 &&
    within(r.devices[0]!.approximateLastSignInDateTime, 0, 21) &&
    within(r.managedDevices[0]!.lastSyncDateTime, 0, 21) &&
    r.machines.every((m) => within(m.lastSeen, 0, 21)) &&
    r.windowsAutopilotDeviceIdentities.every((a) => within(a.lastContactedDateTime, 0, 21)),
  staleEverywhere: (r) =>
    r.devices.length === 1 &&
    r.managedDevices.length === 1 &&
    within(r.devices[0]!.approximateLastSignInDateTime, 100, 400) &&
    within(r.managedDevices[0]!.lastSyncDateTime, 100, 400) &&
    r.machines.every((m) => m.healthStatus === 'Inactive' && within(m.lastSeen, 100, 400)) &&
    r.windowsAutopilotDeviceIdentities.every((a) => within(a.lastContactedDateTime, 100, 400)),
  removedFromIntune: (r) =>
    r.managedDevices.length === 0 &&
    r.devices.length === 1 &&
    r.devices[0]!.accountEnabled &&
    r.devices[0]!.isManaged &&
    r.devices[0]!.mdmAppId === '0000000a-0000-0000-c000-000000000000' &&
    within(r.devices[0]!.approximateLastSignInDateTime, 95, 300) &&
    r.machines.every((m) => m.healthStatus === 'Inactive'),
  removedFromIntuneStillActive: (r) =>
    r.managedDevices.length === 0 &&
    r.devices.length === 1 &&
    r.devices[0]!.accountEnabled &&
    r.devices[0]!.isManaged &&
    within(r.devices[0]!.approximateLastSignInDateTime, 0, 10),
  reimagedDuplicate: (r) => {
    const [old, fresh] = r.managedDevices
    return (
      r.managedDevices.length === 2 &&
      r.devices.length === 2 &&
      old!.serialNumber === fresh!.serialNumber &&
      old!.azureADDeviceId !== fresh!.azureADDeviceId &&
      within(old!.lastSyncDateTime, 120, 300) &&
      within(fresh!.lastSyncDateTime, 0, 7) &&
      r.machines
        .filter((m) => m.aadDeviceId === old!.azureADDeviceId)
        .every(
          (m) =>
            m.healthStatus === 'Inactive' && (m.isPotentialDuplication || m.mergedIntoMachineId !== null),
        )
    )
  },
  defenderOrphan: (r) =>
    r.devices.length === 0 &&
    r.managedDevices.length === 0 &&
    r.machines.length === 1 &&
    r.machines[0]!.aadDeviceId === null &&
    !r.machines[0]!.isAadJoined &&
    r.machines[0]!.healthStatus === 'Inactive' &&
    within(r.machines[0]!.lastSeen, 100, 300),
  autopilotLeftover: (r) => {
    const a = r.windowsAutopilotDeviceIdentities[0]
    return (
      r.managedDevices.length === 0 &&
      a !== undefined &&
      a.enrollmentState === 'enrolled' &&
      GUID.test(a.managedDeviceId) &&
      within(a.lastContactedDateTime, 120, 400) &&
      r.devices.length === 1 &&
      r.devices[0]!.physicalIds.some((id) => id.startsWith('[ZTDID]:')) &&
      ageDays(r.devices[0]!.approximateLastSignInDateTime) >= 100
    )
  },
  autopilotNotDeployed: (r) => {
    const a = r.windowsAutopilotDeviceIdentities[0]
    return (
      a !== undefined &&
      a.enrollmentState === 'notContacted' &&
      a.lastContactedDateTime === ZERO_DATE &&
      a.managedDeviceId === ZERO_GUID &&
      r.devices.length === 1 &&
      r.devices[0]!.approximateLastSignInDateTime === null &&
      r.devices[0]!.physicalIds.some((id) => id.startsWith('[ZTDID]:')) &&
      r.managedDevices.length === 0
    )
  },
  intuneSilent: (r) =>
    within(r.managedDevices[0]?.lastSyncDateTime ?? null, 100, 200) &&
    within(r.devices[0]?.approximateLastSignInDateTime ?? null, 0, 7) &&
    r.machines.length === 1 &&
    r.machines[0]!.healthStatus === 'Active',
  defenderSilent: (r) =>
    within(r.managedDevices[0]?.lastSyncDateTime ?? null, 0, 7) &&
    within(r.devices[0]?.approximateLastSignInDateTime ?? null, 0, 20) &&
    r.machines.length === 1 &&
    r.machines[0]!.healthStatus === 'Inactive' &&
    within(r.machines[0]!.lastSeen, 100, 200),
  hybridJoined: (r) =>
    r.devices.length === 1 &&
    r.devices[0]!.trustType === 'ServerAd' &&
    r.devices[0]!.onPremisesSyncEnabled === true &&
    r.devices[0]!.operatingSystem === 'Windows',
  sharedDevice: (r) =>
    r.managedDevices.length === 1 &&
    r.managedDevices[0]!.userPrincipalName === '' &&
    (r.devices[0]!.profileType === 'Shared' ||
      USERLESS_ENROLLMENTS.includes(r.managedDevices[0]!.deviceEnrollmentType)),
  teamsDevice: (r) =>
    r.managedDevices.length === 1 &&
    r.managedDevices[0]!.managementAgent === 'intuneAosp' &&
    r.managedDevices[0]!.deviceEnrollmentType === 'androidAOSPUserOwnedDeviceEnrollment' &&
    r.managedDevices[0]!.operatingSystem === 'Android' &&
    TEAMS_MAKERS.includes(r.managedDevices[0]!.manufacturer) &&
    r.teamworkDevices.length === 1 &&
    r.teamworkDevices[0]!.hardwareDetail.serialNumber === r.managedDevices[0]!.serialNumber,
  systemDevice: (r) =>
    r.devices.length === 1 &&
    r.devices[0]!.profileType === 'Printer' &&
    r.managedDevices.length + r.machines.length + r.windowsAutopilotDeviceIdentities.length === 0,
  blankTimestamps: (r) =>
    r.devices.length === 1 &&
    r.devices[0]!.approximateLastSignInDateTime === null &&
    r.managedDevices.every((m) => m.lastSyncDateTime === ZERO_DATE) &&
    r.machines.length + r.windowsAutopilotDeviceIdentities.length === 0,
  alreadyDisabled: (r) =>
    r.devices.length === 1 &&
    !r.devices[0]!.accountEnabled &&
    within(r.devices[0]!.approximateLastSignInDateTime, 100, 400) &&
    r.managedDevices.length === 0,
  ambiguousEntra: (r) =>
    r.devices.length === 2 &&
    r.devices[0]!.deviceId === r.devices[1]!.deviceId &&
    r.devices[0]!.id !== r.devices[1]!.id &&
    r.managedDevices.length === 1 &&
    r.managedDevices[0]!.azureADDeviceId === r.devices[0]!.deviceId,
  danglingEntraReference: (r) =>
    r.devices.length === 0 &&
    r.managedDevices.length === 1 &&
    GUID.test(r.managedDevices[0]!.azureADDeviceId) &&
    within(r.managedDevices[0]!.lastSyncDateTime, 100, 300),
  placeholderSerial: (r) =>
    r.managedDevices.length === 1 &&
    PLACEHOLDERS.includes(r.managedDevices[0]!.serialNumber) &&
    within(r.managedDevices[0]!.lastSyncDateTime, 0, 7),
  defenderServer: (r) =>
    r.devices.length === 0 &&
    r.managedDevices.length === 0 &&
    r.machines.length === 1 &&
    r.machines[0]!.aadDeviceId === null &&
    /^(WindowsServer|Ubuntu|RedHat|Linux)/.test(r.machines[0]!.osPlatform),
}

let small: DemoTenant
let medium: DemoDevice[]
let mediumTenant: DemoTenant

beforeAll(() => {
  small = generateDemoTenant(SMALL)
  medium = [...iterateDemoDevices(MEDIUM)]
  mediumTenant = generateDemoTenant(MEDIUM)
})

describe('determinism', () => {
  it('gives byte-identical output for the same options', () => {
    expect(JSON.stringify(generateDemoTenant(SMALL))).toBe(JSON.stringify(small))
  })

  it('gives a different tenant for a different seed', () => {
    const other = generateDemoTenant({ ...SMALL, seed: 2 })
    expect(other.meta.tenantId).not.toBe(small.meta.tenantId)
    const ids = new Set(small.devices.map((d) => d.id))
    expect(other.devices.some((d) => ids.has(d.id))).toBe(false)
    expect(other.managedDevices.map((m) => m.serialNumber)).not.toEqual(
      small.managedDevices.map((m) => m.serialNumber),
    )
  })

  it('treats seeds above 2^32 as distinct', () => {
    const a = generateDemoTenant({ devices: 5, seed: 3 })
    const b = generateDemoTenant({ devices: 5, seed: 3 + 2 ** 32 })
    expect(b.meta.tenantId).not.toBe(a.meta.tenantId)
  })

  it('moves every timestamp by exactly the shift of asOf and changes nothing else', () => {
    const shifted = generateDemoTenant({ ...SMALL, asOf: '2027-03-15T12:00:00Z' })
    const shiftMs = Date.parse('2027-03-15T12:00:00Z') - AS_OF_MS
    expect(shifted.meta.takenAt).toBe('2027-03-15T12:00:00Z')
    const before = timestamps({ ...small, meta: null })
    const after = timestamps({ ...shifted, meta: null })
    expect(after.map((t) => t.path)).toEqual(before.map((t) => t.path))
    after.forEach((t, i) => {
      const original = before[i]!.value
      if (original === ZERO_DATE) expect(t.value).toBe(ZERO_DATE)
      else expect(Date.parse(t.value) - Date.parse(original)).toBe(shiftMs)
    })
  })

  it('formats timestamps exactly like Date#toISOString without the fraction', () => {
    const min = Date.UTC(1970, 0, 1)
    const max = Date.UTC(9999, 11, 31)
    fc.assert(
      fc.property(fc.integer({ min, max }), (ms) => {
        expect(isoSeconds(ms)).toBe(`${new Date(ms).toISOString().slice(0, 19)}Z`)
      }),
    )
  })
})

describe('situations', () => {
  it('puts every situation in a 200-device tenant and counts every device once', () => {
    for (const s of DEMO_SITUATIONS) expect(small.situations[s], s).toBeGreaterThanOrEqual(1)
    const total = Object.values(small.situations).reduce((a, b) => a + b, 0)
    expect(total).toBe(SMALL.devices)
  })

  it('covers every situation once the tenant has one device per situation', () => {
    const tenant = generateDemoTenant({ devices: DEMO_SITUATIONS.length, seed: 9 })
    for (const s of DEMO_SITUATIONS) expect(tenant.situations[s], s).toBe(1)
  })

  it('covers as many situations as fit in a tiny tenant, healthy first', () => {
    const tiny = [...iterateDemoDevices({ devices: 3, seed: 9 })].map((d) => d.situation)
    expect(tiny).toEqual(DEMO_SITUATIONS.slice(0, 3))
    expect([...iterateDemoDevices({ devices: 1, seed: 9 })].map((d) => d.situation)).toEqual(['healthy'])
  })

  it('leaves records that show each situation in the raw data', () => {
    const wrong = medium
      .filter((d) => !LOOKS_LIKE[d.situation](d.records))
      .map((d) => `${d.index} ${d.situation}: ${JSON.stringify(d.records).slice(0, 300)}`)
    expect(wrong).toEqual([])
  })

  it('draws situations near their target rates in a larger tenant', () => {
    const tenant = generateDemoTenant({ devices: 20_000, seed: 5 })
    for (const [situation, rate] of Object.entries(SITUATION_RATES)) {
      const share = tenant.situations[situation as DemoSituation] / 20_000
      expect(share, situation).toBeGreaterThan(rate * 0.6)
      expect(share, situation).toBeLessThan(rate * 1.4 + 0.001)
    }
    expect(tenant.situations.healthy / 20_000).toBeGreaterThan(0.6)
  })

  it('mixes platforms and ownership roughly like a real fleet', () => {
    const platform = countBy(medium, (d) => {
      const os =
        d.records.managedDevices[0]?.operatingSystem ??
        d.records.devices[0]?.operatingSystem ??
        d.records.machines[0]?.osPlatform ??
        ''
      if (/^Windows/.test(os)) return 'windows'
      if (/^(iOS|iPadOS)$/.test(os)) return 'iOS'
      if (os === 'Android') return 'android'
      if (/^mac/i.test(os)) return 'macOS'
      return /Linux|Ubuntu|RedHat/.test(os) ? 'linux' : 'other'
    })
    const share = (k: string): number => (platform.get(k) ?? 0) / medium.length
    expect(share('windows')).toBeGreaterThan(0.52)
    expect(share('windows')).toBeLessThan(0.68)
    expect(share('iOS')).toBeGreaterThan(0.1)
    expect(share('android')).toBeGreaterThan(0.08)
    expect(share('macOS')).toBeGreaterThan(0.06)
    expect(share('linux')).toBeGreaterThan(0.02)
    const personal = mediumTenant.managedDevices.filter((m) => m.managedDeviceOwnerType === 'personal').length
    expect(personal / mediumTenant.managedDevices.length).toBeGreaterThan(0.12)
    expect(personal / mediumTenant.managedDevices.length).toBeLessThan(0.3)
  })
})

describe('ids and joins', () => {
  it('keeps ids unique per source and well-formed', () => {
    const t = mediumTenant
    expect(duplicates(t.devices, (d) => d.id)).toEqual([])
    expect(duplicates(t.managedDevices, (m) => m.id)).toEqual([])
    expect(duplicates(t.windowsAutopilotDeviceIdentities, (a) => a.id)).toEqual([])
    expect(duplicates(t.machines, (m) => m.id)).toEqual([])
    expect(duplicates(t.teamworkDevices, (x) => x.id)).toEqual([])
    for (const d of t.devices) {
      expect(d.id).toMatch(GUID)
      expect(d.deviceId).toMatch(GUID)
      expect(d.id).not.toBe(d.deviceId)
    }
    for (const m of t.machines) expect(m.id).toMatch(MACHINE_ID)
    for (const m of t.managedDevices) expect(m.id).toMatch(GUID)
  })

  it('repeats an Entra deviceId only for the ambiguous (broken sync) devices', () => {
    const ambiguous = new Set(
      medium
        .filter((d) => d.situation === 'ambiguousEntra')
        .flatMap((d) => d.records.devices.map((e) => e.deviceId)),
    )
    expect(ambiguous.size).toBeGreaterThan(0)
    const repeated = duplicates(mediumTenant.devices, (d) => d.deviceId)
    expect(new Set(repeated)).toEqual(ambiguous)
  })

  it('joins records by the same ids the real APIs use', () => {
    const entraIds = new Set(mediumTenant.devices.map((d) => d.deviceId))
    const intuneIds = new Set(mediumTenant.managedDevices.map((m) => m.id))
    const intuneBySerial = new Map(mediumTenant.managedDevices.map((m) => [m.serialNumber, m]))
    for (const { situation, records } of medium) {
      if (situation === 'healthy') {
        for (const m of records.managedDevices) expect(entraIds.has(m.azureADDeviceId)).toBe(true)
        for (const m of records.machines) expect(entraIds.has(m.aadDeviceId ?? '')).toBe(true)
      }
      for (const a of records.windowsAutopilotDeviceIdentities) {
        expect(entraIds.has(a.azureActiveDirectoryDeviceId)).toBe(true)
        const deployed = a.enrollmentState === 'enrolled' && situation !== 'autopilotLeftover'
        if (deployed) {
          expect(intuneIds.has(a.managedDeviceId)).toBe(true)
          expect(intuneBySerial.get(a.serialNumber)?.id).toBe(a.managedDeviceId)
        } else {
          expect(intuneIds.has(a.managedDeviceId)).toBe(false)
        }
        const entra = records.devices.find((d) => d.deviceId === a.azureActiveDirectoryDeviceId)
        expect(entra?.physicalIds.some((id) => id.startsWith('[ZTDID]:'))).toBe(true)
      }
      // A dangling azureADDeviceId must point at nothing at all, or it would be a real link.
      if (situation === 'danglingEntraReference') {
        for (const m of records.managedDevices) expect(entraIds.has(m.azureADDeviceId)).toBe(false)
      }
      const names = new Set(records.devices.map((d) => d.displayName))
      for (const m of records.managedDevices)
        if (records.devices.length > 0) expect(names.has(m.deviceName)).toBe(true)
      for (const m of records.machines) expect(m.computerDnsName).toBe(m.computerDnsName.toLowerCase())
    }
  })

  it('gives every physical device its own serial number, except placeholders', () => {
    const serials = medium
      .filter((d) => d.situation !== 'placeholderSerial')
      .flatMap((d) => [
        ...new Set([
          ...d.records.managedDevices.map((m) => m.serialNumber),
          ...d.records.windowsAutopilotDeviceIdentities.map((a) => a.serialNumber),
        ]),
      ])
    expect(duplicates(serials, (s) => s)).toEqual([])
    for (const d of medium)
      expect(new Set(d.records.managedDevices.map((m) => m.serialNumber)).size).toBeLessThanOrEqual(1)
  })

  it('lists every Teams device in the Teams inventory by serial number', () => {
    const serials = new Set(mediumTenant.teamworkDevices.map((t) => t.hardwareDetail.serialNumber))
    const teamsIntune = mediumTenant.managedDevices.filter((m) => m.managementAgent === 'intuneAosp')
    expect(teamsIntune.length).toBe(mediumTenant.teamworkDevices.length)
    for (const m of teamsIntune) expect(serials.has(m.serialNumber)).toBe(true)
  })
})

describe('record shape', () => {
  it('uses the field names and order of the sample exports', () => {
    for (const [source, fields] of Object.entries(SCENARIO_FIELDS)) {
      const records = mediumTenant[source as keyof typeof SCENARIO_FIELDS] as object[]
      for (const record of records) expect(Object.keys(record).join(' ')).toBe(fields)
    }
  })

  it('spells values the way the APIs export them', () => {
    const t = mediumTenant
    expect(new Set(t.devices.map((d) => d.deviceOwnership))).toEqual(new Set(['Company', 'Personal', null]))
    expect(new Set(t.devices.map((d) => d.managementType))).toEqual(new Set(['MDM', null]))
    expect(new Set(t.devices.map((d) => d.trustType))).toEqual(
      new Set(['AzureAd', 'ServerAd', 'Workplace', null]),
    )
    expect(new Set(t.managedDevices.map((m) => m.managedDeviceOwnerType))).toEqual(
      new Set(['company', 'personal']),
    )
    expect(new Set(t.machines.map((m) => m.onboardingStatus))).toEqual(new Set(['Onboarded']))
    expect(new Set(t.machines.map((m) => m.healthStatus))).toEqual(new Set(['Active', 'Inactive']))
    const platforms = new Set(t.machines.map((m) => m.osPlatform))
    for (const p of ['Windows11', 'Windows10', 'macOS', 'iOS', 'Android'])
      expect(platforms.has(p), p).toBe(true)
    // Defender's 7-day rule, including laptops that were offline for a week or two but are otherwise healthy.
    for (const m of t.machines) expect(m.healthStatus).toBe(ageDays(m.lastSeen) < 7 ? 'Active' : 'Inactive')
    const resting = t.machines.filter((m) => ageDays(m.lastSeen) >= 7 && ageDays(m.lastSeen) < 21)
    expect(resting.length).toBeGreaterThan(0)
    for (const d of t.devices.filter((e) => e.physicalIds.length > 0)) {
      expect(d.physicalIds[0]).toMatch(/^\[ZTDID\]:[0-9a-f-]{36}$/)
    }
  })

  it('writes every timestamp in Graph form, on or before asOf', () => {
    const all = timestamps({ ...mediumTenant, meta: null })
    expect(all.length).toBeGreaterThan(mediumTenant.devices.length)
    for (const { path, value } of all) {
      expect(value, path).toMatch(GRAPH_TIMESTAMP)
      if (value !== ZERO_DATE) expect(Date.parse(value), path).toBeLessThanOrEqual(AS_OF_MS)
      if (value !== ZERO_DATE) expect(Date.parse(value), path).toBeGreaterThan(AS_OF_MS - 6 * 365 * DAY_MS)
    }
    for (const m of mediumTenant.machines)
      expect(Date.parse(m.firstSeen)).toBeLessThanOrEqual(Date.parse(m.lastSeen))
    for (const d of mediumTenant.devices) {
      if (d.approximateLastSignInDateTime === null) continue
      expect(Date.parse(d.registrationDateTime)).toBeLessThanOrEqual(
        Date.parse(d.approximateLastSignInDateTime),
      )
    }
  })
})

describe('options', () => {
  it.each([0, -1, 1.5, 1_000_001, Number.NaN])('rejects devices = %s', (devices) => {
    expect(() => generateDemoTenant({ devices, seed: 1 })).toThrow(/devices must be a whole number/)
  })

  it.each(['yesterday', '2026-11-01', '2026-13-01T00:00:00Z'])('rejects asOf = %s', (asOf) => {
    expect(() => generateDemoTenant({ devices: 1, seed: 1, asOf })).toThrow(/asOf/)
  })

  it('rejects a seed that is not a whole number', () => {
    expect(() => generateDemoTenant({ devices: 1, seed: 0.5 })).toThrow(/seed/)
  })
})

describe('writeDemoSnapshot', () => {
  const dirs: string[] = []
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'offboard-demo-'))
    dirs.push(dir)
    return dir
  }
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('writes parseable Graph-style JSON exports whose counts match the tenant', async () => {
    const dir = join(await tempDir(), 'nested', 'snapshot')
    const result = await writeDemoSnapshot(dir, MEDIUM)
    expect((await readdir(dir)).sort()).toEqual([...SOURCE_FILES.map((n) => `${n}.json`), 'meta.json'].sort())
    expect(result.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual((await readdir(dir)).sort())
    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'))).toEqual(mediumTenant.meta)
    for (const name of SOURCE_FILES) {
      const doc = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8'))
      expect(doc['@odata.context'], name).toMatch(/^https:\/\/(graph|api\.security)\.microsoft\.com\//)
      expect(doc.value, name).toEqual(mediumTenant[name])
      expect(result.counts[name], name).toBe(doc.value.length)
    }
  })

  it('writes JSON Lines with one record per line', async () => {
    const dir = await tempDir()
    const result = await writeDemoSnapshot(dir, { ...MEDIUM, jsonl: true })
    for (const name of SOURCE_FILES) {
      const text = await readFile(join(dir, `${name}.jsonl`), 'utf8')
      const lines = text.split('\n').filter((line) => line !== '')
      expect(
        lines.map((line) => JSON.parse(line)),
        name,
      ).toEqual(mediumTenant[name])
      expect(result.counts[name], name).toBe(lines.length)
    }
    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).takenAt).toBe(DEMO_AS_OF)
  })

  it('writes byte-identical files for the same options and an empty list as []', async () => {
    const [a, b] = [await tempDir(), await tempDir()]
    await writeDemoSnapshot(a, { devices: 2, seed: 4 })
    await writeDemoSnapshot(b, { devices: 2, seed: 4 })
    for (const name of [...SOURCE_FILES.map((n) => `${n}.json`), 'meta.json']) {
      expect(await readFile(join(b, name), 'utf8'), name).toBe(await readFile(join(a, name), 'utf8'))
    }
    // Two devices (healthy, stale) leave no Teams devices: the export must still be valid.
    expect(JSON.parse(await readFile(join(a, 'teamworkDevices.json'), 'utf8')).value).toEqual([])
  })

  it('fails with the folder named when an export cannot be written', async () => {
    const dir = await tempDir()
    // A directory where the export file should go makes the write stream fail after it was opened.
    await mkdir(join(dir, 'machines.json'))
    await expect(writeDemoSnapshot(dir, { devices: 50, seed: 1 })).rejects.toThrow(
      new RegExp(`could not write the snapshot to "${dir}".*EISDIR`),
    )
  })
})

describe('scale', () => {
  it('generates 100,000 devices', { timeout: 120_000 }, () => {
    let devices = 0
    let records = 0
    for (const d of iterateDemoDevices({ devices: 100_000, seed: 11 })) {
      devices++
      for (const name of SOURCE_FILES) records += d.records[name].length
    }
    expect(devices).toBe(100_000)
    expect(records).toBeGreaterThan(devices * 2)
  })
})
