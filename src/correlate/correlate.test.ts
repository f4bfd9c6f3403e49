/** @module Tests of correlation: joins on stable ids only, never across hardware, and independent of input order. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { byKey, healthyRecords, IDS, tenantOf } from '../../test/fixtures/tenant.js'
import {
  type AnyRecord,
  type AutopilotRecord,
  type DefenderRecord,
  type DeviceView,
  type EntraRecord,
  type IntuneRecord,
  recordsOf,
} from '../domain/device.js'
import { normalizeGuid, normalizeSerial } from '../domain/ids.js'
import type { TenantData } from '../snapshot/read-snapshot.js'
import { correlate, MAX_RECORDS_PER_SERIAL } from './correlate.js'

// ---------------------------------------------------------------------------------------------------------------
// A generated fleet: N physical devices, each with its own ids and serial, seen by a random subset of the sources.
// ---------------------------------------------------------------------------------------------------------------

/** Firmware placeholders that many machines share; they must never join anything. */
const PLACEHOLDER_SERIALS = [
  'To be filled by O.E.M.',
  'Default string',
  '0',
  '',
  'System Serial Number',
  '0000000',
  ' none ',
]
/** Display names deliberately collide across devices: names never decide. */
const NAMES = ['LT-0107', 'DESKTOP-7Q2M', 'iPhone', 'Surface Laptop', null]
/** How "not set" looks on an id field before normalisation. */
const UNSET_IDS = [null, '', '   ', '00000000-0000-0000-0000-000000000000']
const SERIAL_STYLES = ['same', 'lower', 'padded', 'spaced', 'none'] as const
type SerialStyle = (typeof SERIAL_STYLES)[number]

interface RecordShape {
  /** Which of the device's Entra deviceIds (generations) the record names. */
  generation: number
  /** Whether the record's link field is set (ignored for fully linked devices). */
  idSet: boolean
  unset: string | null
  upperCase: boolean
  serialStyle: SerialStyle
  /** Autopilot: index into the device's Intune records, or past the end for an id that points at nothing. */
  managed: number
  name: string | null
}

interface DeviceShape {
  generations: number
  /** null: a unique serial; otherwise a placeholder shared with other devices. */
  placeholder: string | null
  /** Every link field set, one generation, unique serial: the device must land in one view. */
  linked: boolean
  entra: RecordShape[]
  intune: RecordShape[]
  autopilot: RecordShape[]
  defender: RecordShape[]
}

interface Fleet {
  data: TenantData
  /** `source:id` → index of the generated device the record belongs to. */
  owner: Map<string, number>
}

const recordShape: fc.Arbitrary<RecordShape> = fc.record({
  generation: fc.nat(1),
  idSet: fc.boolean(),
  unset: fc.constantFrom(...UNSET_IDS),
  upperCase: fc.boolean(),
  serialStyle: fc.constantFrom(...SERIAL_STYLES),
  managed: fc.nat(2),
  name: fc.constantFrom(...NAMES),
})

const deviceShape: fc.Arbitrary<DeviceShape> = fc.record({
  generations: fc.integer({ min: 1, max: 2 }),
  placeholder: fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    { arbitrary: fc.constantFrom(...PLACEHOLDER_SERIALS), weight: 1 },
  ),
  linked: fc.boolean(),
  entra: fc.array(recordShape, { maxLength: 2 }),
  intune: fc.array(recordShape, { maxLength: 2 }),
  autopilot: fc.array(recordShape, { maxLength: 2 }),
  defender: fc.array(recordShape, { maxLength: 2 }),
})

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')
/** A GUID unique per role, device and slot; roles keep the id spaces of different fields apart. */
const guid = (role: number, device: number, slot: number): string =>
  `${hex(role, 8)}-0000-4000-8000-${hex(device * 16 + slot, 12)}`
const ROLE = { entraObject: 1, entraDevice: 2, intune: 3, autopilot: 4, nowhere: 5 } as const

function serialOf(device: number, shape: DeviceShape, rec: RecordShape): string | null {
  if (shape.placeholder !== null) return shape.placeholder
  const serial = `SN${device.toString(36).toUpperCase().padStart(4, '0')}X7`
  const style = shape.linked && rec.serialStyle === 'none' ? 'same' : rec.serialStyle
  switch (style) {
    case 'same':
      return serial
    case 'lower':
      return serial.toLowerCase()
    case 'padded':
      return `  ${serial}\t`
    case 'spaced':
      return `${serial.slice(0, 3)} ${serial.slice(3).toLowerCase()}`
    case 'none':
      return null
  }
}

/** The link id a record carries, normalised the way the source mapping does it. */
function linkId(device: number, shape: DeviceShape, rec: RecordShape): string | null {
  if (!shape.linked && !rec.idSet) return normalizeGuid(rec.unset)
  const id = guid(ROLE.entraDevice, device, shape.linked ? 0 : rec.generation % shape.generations)
  return normalizeGuid(rec.upperCase ? id.toUpperCase() : id)
}

function buildFleet(shapes: DeviceShape[]): Fleet {
  const intune: IntuneRecord[] = []
  const entra: EntraRecord[] = []
  const autopilot: AutopilotRecord[] = []
  const defender: DefenderRecord[] = []
  const owner = new Map<string, number>()
  const base = healthyRecords()

  shapes.forEach((shape, d) => {
    const intuneIds = shape.intune.map((rec, k) =>
      rec.upperCase ? guid(ROLE.intune, d, k).toUpperCase() : guid(ROLE.intune, d, k),
    )
    shape.entra.forEach((rec, k) => {
      const r: EntraRecord = {
        ...base.entra,
        id: guid(ROLE.entraObject, d, k),
        deviceId: linkId(d, shape, rec),
        displayName: rec.name,
      }
      entra.push(r)
      owner.set(`entra:${r.id}`, d)
    })
    shape.intune.forEach((rec, k) => {
      const serialNumber = serialOf(d, shape, rec)
      const r: IntuneRecord = {
        ...base.intune,
        id: intuneIds[k]!,
        azureADDeviceId: linkId(d, shape, rec),
        serialNumber,
        serialKey: normalizeSerial(serialNumber),
        deviceName: rec.name,
      }
      intune.push(r)
      owner.set(`intune:${r.id}`, d)
    })
    shape.autopilot.forEach((rec, k) => {
      const serialNumber = serialOf(d, shape, rec)
      let managedDeviceId: string | null
      if (shape.linked) managedDeviceId = intuneIds.length ? normalizeGuid(intuneIds[0]) : null
      else if (!rec.idSet) managedDeviceId = normalizeGuid(rec.unset)
      else managedDeviceId = normalizeGuid(intuneIds[rec.managed] ?? guid(ROLE.nowhere, d, k))
      const r: AutopilotRecord = {
        ...base.autopilot,
        id: guid(ROLE.autopilot, d, k),
        serialNumber,
        serialKey: normalizeSerial(serialNumber),
        azureActiveDirectoryDeviceId: linkId(d, shape, rec),
        managedDeviceId,
        displayName: rec.name,
      }
      autopilot.push(r)
      owner.set(`autopilot:${r.id}`, d)
    })
    shape.defender.forEach((rec, k) => {
      const r: DefenderRecord = {
        ...base.defender,
        id: `${hex(d, 20)}${hex(k, 20)}`,
        aadDeviceId: linkId(d, shape, rec),
        computerDnsName: rec.name?.toLowerCase() ?? null,
      }
      defender.push(r)
      owner.set(`defender:${r.id}`, d)
    })
  })
  return { data: tenantOf({ intune, entra, autopilot, defender }), owner }
}

// Shapes, not built records, so that a counterexample stays readable; each property builds the fleet itself.
const fleetShapes: fc.Arbitrary<DeviceShape[]> = fc.array(deviceShape, { maxLength: 24 })

const keyOf = (r: AnyRecord): string => `${r.source}:${r.id}`
const allRecords = (data: TenantData): AnyRecord[] => [
  ...data.intune.records,
  ...data.entra.records,
  ...data.autopilot.records,
  ...data.defender.records,
]

/** The join keys a record carries (decisions.md, "Matching records"), written independently of the implementation. */
function joinKeys(r: AnyRecord): string[] {
  switch (r.source) {
    case 'entra':
      return r.deviceId ? [`entra-device:${r.deviceId}`] : []
    case 'intune':
      return [
        `intune-id:${r.id.toLowerCase()}`,
        ...(r.azureADDeviceId ? [`entra-device:${r.azureADDeviceId}`] : []),
        ...(r.serialKey ? [`serial:${r.serialKey}`] : []),
      ]
    case 'autopilot':
      return [
        ...(r.azureActiveDirectoryDeviceId ? [`entra-device:${r.azureActiveDirectoryDeviceId}`] : []),
        ...(r.managedDeviceId ? [`intune-id:${r.managedDeviceId}`] : []),
        ...(r.serialKey ? [`serial:${r.serialKey}`] : []),
      ]
    case 'defender':
      return r.aadDeviceId ? [`entra-device:${r.aadDeviceId}`] : []
  }
}

/** The expected partition: records sharing a join key are one group (serials here are never over the cap). */
function expectedGroups(records: AnyRecord[]): string[][] {
  const parent = new Map<string, string>()
  const find = (x: string): string => {
    let p = parent.get(x) ?? x
    while (p !== (parent.get(p) ?? p)) p = parent.get(p) ?? p
    parent.set(x, p)
    return p
  }
  const firstWithKey = new Map<string, string>()
  for (const r of records) {
    for (const key of joinKeys(r)) {
      const other = firstWithKey.get(key)
      if (other === undefined) firstWithKey.set(key, keyOf(r))
      else {
        const a = find(keyOf(r))
        const b = find(other)
        if (a !== b) parent.set(a, b)
      }
    }
  }
  const groups = new Map<string, string[]>()
  for (const r of records) {
    const root = find(keyOf(r))
    groups.set(root, [...(groups.get(root) ?? []), keyOf(r)])
  }
  return normalizePartition([...groups.values()])
}

function normalizePartition(groups: string[][]): string[][] {
  return groups.map((g) => [...g].sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
}

const viewPartition = (views: DeviceView[]): string[][] =>
  normalizePartition(views.map((v) => recordsOf(v).map(keyOf)))

function shuffled(data: TenantData, g: fc.GeneratorValue): TenantData {
  const shuffle = <T>(xs: T[]): T[] =>
    g(fc.shuffledSubarray, xs, { minLength: xs.length, maxLength: xs.length })
  return {
    ...data,
    intune: { ...data.intune, records: shuffle(data.intune.records) },
    entra: { ...data.entra, records: shuffle(data.entra.records) },
    autopilot: { ...data.autopilot, records: shuffle(data.autopilot.records) },
    defender: { ...data.defender, records: shuffle(data.defender.records) },
  }
}

const RUNS = { numRuns: 150 }

describe('correlate: properties over a generated fleet', () => {
  it('(a) never merges records of distinct hardware into one view', () => {
    fc.assert(
      fc.property(fleetShapes, (shapes) => {
        const { data, owner } = buildFleet(shapes)
        for (const view of correlate(data).views) {
          const devices = new Set(recordsOf(view).map((r) => owner.get(keyOf(r))))
          expect(devices.size, `view ${view.key} mixes devices ${[...devices].join(', ')}`).toBe(1)
        }
      }),
      RUNS,
    )
  })

  it('(b) puts every record in exactly one view, and nothing else', () => {
    fc.assert(
      fc.property(fleetShapes, (shapes) => {
        const { data } = buildFleet(shapes)
        const seen = correlate(data).views.flatMap((v) => recordsOf(v).map(keyOf))
        expect([...seen].sort()).toEqual(allRecords(data).map(keyOf).sort())
      }),
      RUNS,
    )
  })

  it('(c) gives the same views, byte for byte, whatever the order of the input arrays', () => {
    fc.assert(
      fc.property(fleetShapes, fc.gen(), (shapes, g) => {
        const { data } = buildFleet(shapes)
        // Views derive their links on demand: spell them out, so that they are compared too.
        const spelled = (d: TenantData) => correlate(d).views.map((v) => ({ ...v, links: v.links }))
        const expected = spelled(data)
        const actual = spelled(shuffled(data, g))
        expect(actual).toEqual(expected)
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected))
      }),
      RUNS,
    )
  })

  it('(c) is order-independent on a fleet without duplicate records per device', () => {
    const single = fc.array(
      deviceShape.map((s) => ({
        ...s,
        generations: 1,
        entra: s.entra.slice(0, 1),
        intune: s.intune.slice(0, 1),
        autopilot: s.autopilot.slice(0, 1),
        defender: s.defender.slice(0, 1),
      })),
      { maxLength: 24 },
    )
    fc.assert(
      fc.property(single, fc.gen(), (shapes, g) => {
        const { data } = buildFleet(shapes)
        expect(JSON.stringify(correlate(shuffled(data, g)))).toBe(JSON.stringify(correlate(data)))
      }),
      RUNS,
    )
  })

  it('(d) keeps together every device present in two or more sources with its ids set', () => {
    fc.assert(
      fc.property(fleetShapes, (shapes) => {
        const { data, owner } = buildFleet(shapes)
        const viewsOfDevice = new Map<number, Set<string>>()
        for (const view of correlate(data).views) {
          for (const r of recordsOf(view)) {
            const d = owner.get(keyOf(r))!
            viewsOfDevice.set(d, (viewsOfDevice.get(d) ?? new Set()).add(view.key))
          }
        }
        shapes.forEach((shape, d) => {
          const sources = [shape.entra, shape.intune, shape.autopilot, shape.defender].filter(
            (s) => s.length > 0,
          ).length
          if (shape.linked && sources >= 2) expect(viewsOfDevice.get(d)?.size, `device ${d}`).toBe(1)
        })
      }),
      RUNS,
    )
  })

  it('(d) joins exactly the records that share a stable id or a usable serial', () => {
    fc.assert(
      fc.property(fleetShapes, (shapes) => {
        const { data } = buildFleet(shapes)
        expect(viewPartition(correlate(data).views)).toEqual(expectedGroups(allRecords(data)))
      }),
      RUNS,
    )
  })

  it('builds again, for any group, the view forEach built; every view once, as views holds them', () => {
    fc.assert(
      fc.property(fleetShapes, fc.gen(), (shapes, g) => {
        const { data } = buildFleet(shapes)
        const correlation = correlate(data)
        const built = new Map<number, DeviceView>()
        correlation.forEach((view, group) => {
          built.set(group, view)
        })
        expect(built.size).toBe(correlation.size)
        for (const group of g(fc.subarray, [...built.keys()]))
          expect(correlation.view(group)).toEqual(built.get(group))
        expect([...built.values()].sort(byKey)).toEqual(correlation.views)
      }),
      RUNS,
    )
  })

  it('lets go of the records of the groups not retained, and of a dropped group', () => {
    const d = healthyRecords()
    const other = { ...d.entra, id: OTHER_ENTRA_OBJECT, deviceId: OTHER_ENTRA_DEVICE, displayName: 'other' }
    const correlation = correlate(
      tenantOf({
        intune: [d.intune],
        entra: [d.entra, other],
        autopilot: [d.autopilot],
        defender: [d.defender],
      }),
    )
    const groups: number[] = []
    const keys: string[] = []
    correlation.forEach((view, group) => {
      groups.push(group)
      keys.push(view.key)
    })
    const kept = groups[keys.indexOf(`autopilot:${IDS.autopilot}`)]!
    const letGo = groups[keys.indexOf(`entra:${OTHER_ENTRA_OBJECT}`)]!
    correlation.retain([kept])
    expect(recordsOf(correlation.view(kept)).map(keyOf)).toHaveLength(4)
    expect(() => correlation.view(letGo)).toThrow(TypeError)
    correlation.drop(kept)
    expect(() => correlation.view(kept)).toThrow(TypeError)
  })

  it('keys every view by its smallest source:id and sorts views and records', () => {
    fc.assert(
      fc.property(fleetShapes, (shapes) => {
        const { data } = buildFleet(shapes)
        const { views } = correlate(data)
        for (const v of views) {
          expect(v.key).toBe(recordsOf(v).map(keyOf).sort()[0])
          for (const list of [v.intune, v.entra, v.autopilot, v.defender]) {
            expect(list.map((r) => r.id)).toEqual(list.map((r) => r.id).sort())
          }
        }
        expect(views.map((v) => v.key)).toEqual(views.map((v) => v.key).sort())
      }),
      RUNS,
    )
  })
})

describe('correlate: view order', () => {
  // Views are ordered on a numeric prefix of their key (7 characters at 7 bits) before the text; ids that share
  // the prefix, stop it with a character past 7 bits, or end inside it must still come out in text order.
  const IDS_TO_ORDER = [
    'abcdefgZ',
    'abcdefgA',
    'abcdefg',
    'abcdef',
    'abc\u00e9defz',
    'abc\u00e9defa',
    'abc\u007fdefz',
    'abc\u007fdefa',
    'abc\uffff',
    'abd',
    'abc\u00ffa',
    'abc\u0100',
    'abc',
    'ABC',
    '',
    'zzzzzzzzzz',
    '\u0000a',
    '\u0000',
  ]

  it('orders views by key text whatever the ids look like, in every source', () => {
    const d = healthyRecords()
    const defender = IDS_TO_ORDER.map((id) => ({ ...d.defender, id, aadDeviceId: null }))
    const entra = IDS_TO_ORDER.map((id) => ({ ...d.entra, id, deviceId: null }))
    const { views } = correlate(
      tenantOf({ intune: [], entra, autopilot: [], defender: [...defender].reverse() }),
    )
    const keys = views.map((v) => v.key)
    expect(keys).toHaveLength(2 * IDS_TO_ORDER.length)
    expect(keys).toEqual([...keys].sort())
    expect(keys[0]).toBe('defender:')
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------------------------------

const OTHER_ENTRA_DEVICE = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'
const OTHER_ENTRA_OBJECT = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f'
const OLD_ENTRA_DEVICE = '7a0c9b1e-2d3f-4e5a-8b6c-9d0e1f2a3b4c'
const OLD_INTUNE = '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9'

function only(views: DeviceView[]): DeviceView {
  expect(views).toHaveLength(1)
  return views[0]!
}

describe('correlate: the healthy device', () => {
  it('joins all four records into one view and records each link with its field value', () => {
    const d = healthyRecords()
    const view = only(
      correlate(
        tenantOf({ intune: [d.intune], entra: [d.entra], autopilot: [d.autopilot], defender: [d.defender] }),
      ).views,
    )
    expect(recordsOf(view).map(keyOf)).toEqual([
      `intune:${IDS.intune}`,
      `autopilot:${IDS.autopilot}`,
      `entra:${IDS.entraObject}`,
      `defender:${IDS.defender}`,
    ])
    expect(view.key).toBe(`autopilot:${IDS.autopilot}`)
    expect(view.dangling).toEqual([])
    expect(view.ambiguities).toEqual([])
    expect(view.teamsDevice).toBe(false)
    const intune = { source: 'intune', id: IDS.intune }
    const entra = { source: 'entra', id: IDS.entraObject }
    const autopilot = { source: 'autopilot', id: IDS.autopilot }
    const defender = { source: 'defender', id: IDS.defender }
    expect(view.links).toHaveLength(5)
    expect(view.links).toEqual(
      expect.arrayContaining([
        { from: intune, to: entra, via: 'entraDeviceId', value: IDS.entraDevice },
        { from: autopilot, to: intune, via: 'serialNumber', value: IDS.serial }, // undirected: ends in source:id order
        { from: autopilot, to: entra, via: 'entraDeviceId', value: IDS.entraDevice },
        { from: autopilot, to: intune, via: 'managedDeviceId', value: IDS.intune },
        { from: defender, to: entra, via: 'entraDeviceId', value: IDS.entraDevice },
      ]),
    )
  })

  it('once released, keeps the records of the views built so far, and refuses links and new views', () => {
    const d = healthyRecords()
    const correlation = correlate(
      tenantOf({ intune: [d.intune], entra: [d.entra], autopilot: [d.autopilot], defender: [d.defender] }),
    )
    const kept: DeviceView[] = []
    correlation.forEach((v) => {
      kept.push(v)
    })
    expect(only(kept).links).toHaveLength(5)
    correlation.release()
    expect(recordsOf(only(kept)).map(keyOf)).toHaveLength(4)
    expect(() => only(kept).links).toThrow(`the links of device autopilot:${IDS.autopilot} are gone`)
    expect(() => correlation.forEach(() => {})).toThrow(/the correlation was released/)
    expect(() => correlation.views).toThrow(/the correlation was released/)
  })

  it('gives no views for an empty tenant', () => {
    expect(correlate(tenantOf({})).views).toEqual([])
  })

  it('does not join on names: two devices called the same stay apart', () => {
    const a = healthyRecords().intune
    const b = {
      ...a,
      id: OLD_INTUNE,
      azureADDeviceId: OTHER_ENTRA_DEVICE,
      serialNumber: 'QX77LM02',
      serialKey: 'QX77LM02',
    }
    expect(correlate(tenantOf({ intune: [a, b] })).views).toHaveLength(2)
  })

  it('does not join an Intune id with an Entra deviceId of the same value', () => {
    const d = healthyRecords()
    const intune = { ...d.intune, azureADDeviceId: null, serialNumber: null, serialKey: null }
    const entra = { ...d.entra, deviceId: IDS.intune }
    expect(correlate(tenantOf({ intune: [intune], entra: [entra] })).views).toHaveLength(2)
  })

  it('marks a device whose serial is in the Teams inventory', () => {
    const d = healthyRecords()
    const view = only(correlate(tenantOf({ intune: [d.intune], teamsSerials: new Set([IDS.serial]) })).views)
    expect(view.teamsDevice).toBe(true)
  })
})

describe('correlate: dangling references', () => {
  const intune = { ...healthyRecords().intune, serialNumber: null, serialKey: null }

  it('reports an Intune azureADDeviceId that matches no Entra object when Entra is connected', () => {
    const view = only(correlate(tenantOf({ intune: [intune], entra: [] })).views)
    expect(view.dangling).toEqual([
      {
        from: { source: 'intune', id: IDS.intune },
        field: 'azureADDeviceId',
        value: IDS.entraDevice,
        missingIn: 'entra',
      },
    ])
    expect(view.links).toEqual([])
  })

  it.each(['missing', 'error'] as const)('says nothing when Entra is %s', (status) => {
    const view = only(correlate(tenantOf({ intune: [intune], entra: status })).views)
    expect(view.dangling).toEqual([])
  })

  it('reports an Autopilot managedDeviceId that matches no Intune record only when Intune is connected', () => {
    const ap = {
      ...healthyRecords().autopilot,
      azureActiveDirectoryDeviceId: null,
      serialNumber: null,
      serialKey: null,
    }
    expect(only(correlate(tenantOf({ autopilot: [ap] })).views).dangling).toEqual([
      {
        from: { source: 'autopilot', id: IDS.autopilot },
        field: 'managedDeviceId',
        value: IDS.intune,
        missingIn: 'intune',
      },
    ])
    expect(only(correlate(tenantOf({ autopilot: [ap], intune: 'missing' })).views).dangling).toEqual([])
  })

  it('reports a Defender aadDeviceId that matches no Entra object', () => {
    const md = healthyRecords().defender
    expect(only(correlate(tenantOf({ defender: [md] })).views).dangling).toEqual([
      {
        from: { source: 'defender', id: IDS.defender },
        field: 'aadDeviceId',
        value: IDS.entraDevice,
        missingIn: 'entra',
      },
    ])
  })

  it('still joins records that name the same deleted Entra device', () => {
    const d = healthyRecords()
    const view = only(correlate(tenantOf({ intune: [intune], defender: [d.defender] })).views)
    expect(view.dangling.map((x) => x.from.source)).toEqual(['defender', 'intune'])
  })
})

describe('correlate: ambiguities', () => {
  it('reports two Entra objects with the deviceId an Intune record names', () => {
    const d = healthyRecords()
    const twin = { ...d.entra, id: '2b3c4d5e-6f70-4819-92a3-b4c5d6e7f809' }
    const view = only(correlate(tenantOf({ intune: [d.intune], entra: [d.entra, twin] })).views)
    expect(view.entra.map((e) => e.id)).toEqual([twin.id, d.entra.id])
    expect(view.ambiguities).toHaveLength(1)
    expect(view.ambiguities[0]).toContain(
      `Intune record "${IDS.intune}" azureADDeviceId "${IDS.entraDevice}" matches 2 entra records`,
    )
    expect(view.ambiguities[0]).toContain(`"${twin.id}"`)
    expect(view.ambiguities[0]).toContain(`"${IDS.entraObject}"`)
    expect(view.links.filter((l) => l.from.source === 'intune' && l.via === 'entraDeviceId')).toHaveLength(2)
  })

  it('names the competing Entra objects in a fixed order, whatever the input order', () => {
    const d = healthyRecords()
    const twin = { ...d.entra, id: '2b3c4d5e-6f70-4819-92a3-b4c5d6e7f809' }
    const a = only(correlate(tenantOf({ intune: [d.intune], entra: [d.entra, twin] })).views)
    const b = only(correlate(tenantOf({ intune: [d.intune], entra: [twin, d.entra] })).views)
    expect(b.ambiguities).toEqual(a.ambiguities)
  })

  it('reports two Entra objects with one deviceId even when no other record names it', () => {
    const d = healthyRecords()
    const twin = {
      ...d.entra,
      id: '2b3c4d5e-6f70-4819-92a3-b4c5d6e7f809',
      approximateLastSignInDateTime: null,
    }
    const view = only(correlate(tenantOf({ entra: [d.entra, twin] })).views)
    expect(view.entra).toHaveLength(2)
    expect(view.ambiguities).toHaveLength(1)
    expect(view.ambiguities[0]).toContain(IDS.entraDevice)
  })

  it('reports an Autopilot identity whose Intune record names another Entra device than the identity does', () => {
    const d = healthyRecords()
    const ap = { ...d.autopilot, azureActiveDirectoryDeviceId: OTHER_ENTRA_DEVICE }
    const other = { ...d.entra, id: '3c4d5e6f-7081-4920-a3b4-c5d6e7f8091a', deviceId: OTHER_ENTRA_DEVICE }
    const view = only(
      correlate(tenantOf({ intune: [d.intune], entra: [d.entra, other], autopilot: [ap] })).views,
    )
    expect(view.ambiguities).toEqual([
      `Autopilot identity "${IDS.autopilot}" names Entra device "${OTHER_ENTRA_DEVICE}" but its Intune record "${IDS.intune}" names "${IDS.entraDevice}"`,
    ])
  })

  it('does not report an Autopilot identity whose Intune record names no Entra device', () => {
    const d = healthyRecords()
    const view = only(
      correlate(tenantOf({ intune: [{ ...d.intune, azureADDeviceId: null }], autopilot: [d.autopilot] }))
        .views,
    )
    expect(view.ambiguities).toEqual([])
  })

  it('reports two Autopilot identities with one serial, naming them in a fixed order', () => {
    const d = healthyRecords()
    const twin = {
      ...d.autopilot,
      id: '4d5e6f70-8192-4a31-b4c5-d6e7f8091a2b',
      serialNumber: ' pf3kx9q1 ',
      managedDeviceId: null,
    }
    const a = only(correlate(tenantOf({ autopilot: [d.autopilot, twin] })).views)
    const b = only(correlate(tenantOf({ autopilot: [twin, d.autopilot] })).views)
    expect(a.ambiguities).toHaveLength(1)
    expect(a.ambiguities[0]).toContain(`"${IDS.autopilot}"`)
    expect(a.ambiguities[0]).toContain(`"${twin.id}"`)
    expect(b.ambiguities).toEqual(a.ambiguities)
  })
})

describe('correlate: serial numbers', () => {
  it('joins a re-imaged device: old and new Intune records with the Autopilot identity, linked by serial', () => {
    const d = healthyRecords()
    const old: IntuneRecord = {
      ...d.intune,
      id: OLD_INTUNE,
      azureADDeviceId: OLD_ENTRA_DEVICE,
      serialNumber: 'pf3kx9q1 ',
      serialKey: normalizeSerial('pf3kx9q1 '),
    }
    const view = only(
      correlate(tenantOf({ intune: [d.intune, old], entra: [d.entra], autopilot: [d.autopilot] })).views,
    )
    expect(view.intune.map((r) => r.id)).toEqual([OLD_INTUNE, IDS.intune])
    const serialLinks = view.links.filter((l) => l.via === 'serialNumber')
    // Serial links are undirected: compare the pairs of ends. Both Intune records link to Autopilot and to each other.
    const pairs = serialLinks
      .map((l) => [`${l.from.source}:${l.from.id}`, `${l.to.source}:${l.to.id}`].sort().join(' ~ '))
      .sort()
    expect(pairs).toEqual(
      [
        [`intune:${OLD_INTUNE}`, `autopilot:${IDS.autopilot}`],
        [`intune:${IDS.intune}`, `autopilot:${IDS.autopilot}`],
        [`intune:${OLD_INTUNE}`, `intune:${IDS.intune}`],
      ]
        .map((p) => p.sort().join(' ~ '))
        .sort(),
    )
    expect(serialLinks.every((l) => l.value === IDS.serial)).toBe(true)
    expect(view.dangling).toEqual([
      {
        from: { source: 'intune', id: OLD_INTUNE },
        field: 'azureADDeviceId',
        value: OLD_ENTRA_DEVICE,
        missingIn: 'entra',
      },
    ])
    expect(view.ambiguities).toEqual([])
  })

  it('joins a re-imaged device without Autopilot and records the serial link between its Intune records', () => {
    const d = healthyRecords()
    const old: IntuneRecord = { ...d.intune, id: OLD_INTUNE, azureADDeviceId: OLD_ENTRA_DEVICE }
    const oldEntra: EntraRecord = {
      ...d.entra,
      id: '5e6f7081-92a3-4b42-85d6-e7f8091a2b3c',
      deviceId: OLD_ENTRA_DEVICE,
    }
    const view = only(correlate(tenantOf({ intune: [d.intune, old], entra: [d.entra, oldEntra] })).views)
    expect(view.intune.map((r) => r.id)).toEqual([OLD_INTUNE, IDS.intune])
    expect(view.entra).toHaveLength(2)
    const serialLinks = view.links.filter((l) => l.via === 'serialNumber')
    expect(serialLinks).toHaveLength(1)
    expect(serialLinks[0]).toMatchObject({ via: 'serialNumber', value: IDS.serial })
    expect([serialLinks[0]!.from.id, serialLinks[0]!.to.id].sort()).toEqual([OLD_INTUNE, IDS.intune])
  })

  it.each(PLACEHOLDER_SERIALS)('never joins on the placeholder serial %j', (placeholder) => {
    const d = healthyRecords()
    const a = {
      ...d.intune,
      azureADDeviceId: null,
      serialNumber: placeholder,
      serialKey: normalizeSerial(placeholder),
    }
    const b = {
      ...d.autopilot,
      azureActiveDirectoryDeviceId: null,
      managedDeviceId: null,
      serialNumber: placeholder,
      serialKey: normalizeSerial(placeholder),
    }
    expect(correlate(tenantOf({ intune: [a], autopilot: [b] })).views).toHaveLength(2)
  })

  const clones = (count: number): IntuneRecord[] =>
    Array.from({ length: count }, (_, i) => ({
      ...healthyRecords().intune,
      id: guid(ROLE.intune, 900, i),
      azureADDeviceId: guid(ROLE.entraDevice, 900, i),
      serialNumber: 'VMware-56 4d 1a',
      serialKey: normalizeSerial('VMware-56 4d 1a'),
    }))

  it(`joins records on a serial shared by up to MAX_RECORDS_PER_SERIAL (${MAX_RECORDS_PER_SERIAL}) records`, () => {
    expect(
      correlate(tenantOf({ intune: clones(MAX_RECORDS_PER_SERIAL), entra: 'missing' })).views,
    ).toHaveLength(1)
  })

  it('joins nothing on a serial shared by more than MAX_RECORDS_PER_SERIAL records', () => {
    const { views } = correlate(tenantOf({ intune: clones(MAX_RECORDS_PER_SERIAL + 1), entra: 'missing' }))
    expect(views).toHaveLength(MAX_RECORDS_PER_SERIAL + 1)
    expect(views.flatMap((v) => v.links)).toEqual([])
  })

  it('counts Intune and Autopilot records together against the serial cap', () => {
    const intune = clones(MAX_RECORDS_PER_SERIAL - 1)
    const ap = (i: number): AutopilotRecord => ({
      ...healthyRecords().autopilot,
      id: guid(ROLE.autopilot, 900, i),
      azureActiveDirectoryDeviceId: null,
      managedDeviceId: null,
      serialNumber: 'vmware-564d1a',
      serialKey: normalizeSerial('vmware-564d1a'),
    })
    const { views } = correlate(tenantOf({ intune, autopilot: [ap(0), ap(1)], entra: 'missing' }))
    expect(views).toHaveLength(MAX_RECORDS_PER_SERIAL + 1)
    expect(views.flatMap((v) => v.links)).toEqual([])
  })

  it('still joins by ids records whose serial is over the cap', () => {
    const intune = clones(MAX_RECORDS_PER_SERIAL + 1)
    const entra: EntraRecord = { ...healthyRecords().entra, deviceId: intune[0]!.azureADDeviceId }
    const { views } = correlate(tenantOf({ intune, entra: [entra] }))
    expect(views).toHaveLength(MAX_RECORDS_PER_SERIAL + 1)
    const joined = views.find((v) => v.entra.length === 1)!
    expect(joined.intune.map((r) => r.id)).toEqual([intune[0]!.id])
  })
})
