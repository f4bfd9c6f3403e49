/** @module Tests of the snapshot reader over real files: formats, missing exports, and errors that name file, record and field. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InputError } from '../lib/errors.js'
import { looksLikeSnapshot, readSnapshot, type SnapshotProgress } from './read-snapshot.js'

const ENTRA_DEVICE = '58bd2f7e-a459-4c94-a962-c2192982c154'
const INTUNE_ID = 'a19d8bb8-8793-43e8-af81-1321f0289f5c'
const ENTRA_OBJECT = '576d0fe3-1b2c-41f8-ad1e-bc8415a6b183'
const AUTOPILOT_ID = 'cc370016-8efb-430a-aa6f-00301f3dbaf8'
const DEFENDER_ID = '99C69BB0A77C268850750273F9D157F059D878C5'

const FILES = {
  intune: 'managedDevices.json',
  entra: 'devices.json',
  autopilot: 'windowsAutopilotDeviceIdentities.json',
  defender: 'machines.json',
} as const

const intuneRaw = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: INTUNE_ID,
  deviceName: 'LT-0107',
  azureADDeviceId: ENTRA_DEVICE.toUpperCase(),
  serialNumber: ' pf3kx9q1 ',
  operatingSystem: 'Windows',
  lastSyncDateTime: '2026-10-31T10:00:00.1234567Z',
  enrolledDateTime: '2025-09-27T08:00:00Z',
  managedDeviceOwnerType: 'company',
  ...over,
})

const entraRaw = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: ENTRA_OBJECT,
  deviceId: ENTRA_DEVICE,
  displayName: 'LT-0107',
  accountEnabled: true,
  approximateLastSignInDateTime: '2026-10-30T00:00:00Z',
  operatingSystem: 'Windows',
  trustType: 'AzureAd',
  physicalIds: ['[ZTDId]:6c9a5a4e-1111-4222-8333-944455556666', '[OrderId]:Sales', '[USER-GID]:x'],
  ...over,
})

const autopilotRaw = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: AUTOPILOT_ID,
  serialNumber: 'PF3KX9Q1',
  groupTag: 'Sales',
  lastContactedDateTime: '0001-01-01T00:00:00Z',
  azureActiveDirectoryDeviceId: ENTRA_DEVICE,
  managedDeviceId: '00000000-0000-0000-0000-000000000000',
  ...over,
})

const defenderRaw = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: DEFENDER_ID,
  computerDnsName: 'lt-0107.contoso.example',
  firstSeen: '2025-10-06T08:00:00Z',
  lastSeen: '2026-10-31T09:00:00-08:00',
  osPlatform: 'Windows11',
  osBuild: '22631',
  healthStatus: 'Active',
  onboardingstatus: 'Onboarded',
  aadDeviceId: ENTRA_DEVICE,
  machineTags: null,
  ...over,
})

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offboard-snapshot-test-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes a file into the snapshot folder: strings as they are, anything else as indented JSON. */
async function put(name: string, content: unknown): Promise<void> {
  await writeFile(
    join(dir, name),
    typeof content === 'string' ? content : JSON.stringify(content, null, 2),
    'utf8',
  )
}

const jsonl = (records: unknown[]): string => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`

/** The InputError readSnapshot throws (fails the test when it resolves or throws something else). */
async function inputErrorOf(path = dir): Promise<InputError> {
  const err = await readSnapshot(path).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InputError)
  return err as InputError
}

describe('readSnapshot: formats', () => {
  it('reads { "value": [...] }, a bare array and .jsonl, and maps records to the domain', async () => {
    await put(FILES.intune, {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices',
      value: [intuneRaw()],
    })
    await put(FILES.entra, [entraRaw()])
    await put('windowsAutopilotDeviceIdentities.jsonl', jsonl([autopilotRaw()]))
    await put(FILES.defender, { value: [defenderRaw()] })

    const data = await readSnapshot(dir)
    expect(data.intune).toMatchObject({ status: 'ok', origin: FILES.intune })
    expect(data.entra).toMatchObject({ status: 'ok', origin: FILES.entra })
    expect(data.autopilot).toMatchObject({ status: 'ok', origin: 'windowsAutopilotDeviceIdentities.jsonl' })
    expect(data.defender).toMatchObject({ status: 'ok', origin: FILES.defender })

    expect(data.intune.records).toEqual([
      expect.objectContaining({
        source: 'intune',
        id: INTUNE_ID,
        azureADDeviceId: ENTRA_DEVICE,
        serialNumber: 'pf3kx9q1',
        serialKey: 'PF3KX9Q1',
        platform: 'windows',
        lastSyncDateTime: Date.parse('2026-10-31T10:00:00.123Z'),
        ownership: 'company',
        joinType: null,
      }),
    ])
    expect(data.entra.records).toEqual([
      expect.objectContaining({
        source: 'entra',
        id: ENTRA_OBJECT,
        deviceId: ENTRA_DEVICE,
        accountEnabled: true,
        autopilotRegistered: true,
        groupTag: 'Sales',
      }),
    ])
    expect(data.autopilot.records).toEqual([
      expect.objectContaining({
        source: 'autopilot',
        id: AUTOPILOT_ID,
        serialKey: 'PF3KX9Q1',
        lastContactedDateTime: null,
        managedDeviceId: null,
      }),
    ])
    expect(data.defender.records).toEqual([
      expect.objectContaining({
        source: 'defender',
        id: DEFENDER_ID.toLowerCase(),
        lastSeen: Date.parse('2026-10-31T17:00:00Z'),
        osBuild: 22631,
        onboardingStatus: 'Onboarded',
        machineTags: [],
      }),
    ])
    expect(data.teamsSerials).toBeNull()
    expect(data.tenantId).toBeNull()
    expect(data.takenAt).toBeNull()
  })

  it('reads an empty collection as connected with no records', async () => {
    await put(FILES.intune, { value: [] })
    await put(FILES.entra, [])
    await put('machines.jsonl', '')
    const data = await readSnapshot(dir)
    expect(data.intune).toEqual({ status: 'ok', records: [], origin: FILES.intune })
    expect(data.entra).toEqual({ status: 'ok', records: [], origin: FILES.entra })
    expect(data.defender).toEqual({ status: 'ok', records: [], origin: 'machines.jsonl' })
  })

  it('skips blank lines and a trailing CRLF in .jsonl', async () => {
    await put(
      'managedDevices.jsonl',
      `${JSON.stringify(intuneRaw())}\r\n\r\n   \r\n${JSON.stringify(intuneRaw({ id: 'b2' }))}\r\n`,
    )
    const data = await readSnapshot(dir)
    expect(data.intune.records.map((r) => r.id)).toEqual([INTUNE_ID, 'b2'])
  })

  it('ignores fields it does not read', async () => {
    await put(FILES.entra, {
      value: [
        entraRaw({
          '@odata.type': '#microsoft.graph.device',
          alternativeSecurityIds: [{ type: 2, key: 'WAA1ADAA' }],
          extensionAttributes: { extensionAttribute1: null },
          someFutureField: 42,
        }),
      ],
    })
    const data = await readSnapshot(dir)
    expect(data.entra.records).toHaveLength(1)
    expect(data.entra.records[0]).not.toHaveProperty('someFutureField')
    expect(data.entra.records[0]).not.toHaveProperty('@odata.type')
  })

  it('treats absent optional fields as null', async () => {
    await put(FILES.intune, [{ id: INTUNE_ID }])
    const [rec] = (await readSnapshot(dir)).intune.records
    expect(rec).toMatchObject({
      id: INTUNE_ID,
      deviceName: null,
      azureADDeviceId: null,
      serialKey: null,
      lastSyncDateTime: null,
    })
  })
})

describe('readSnapshot: missing exports and folders', () => {
  it('gives status "missing" for an absent export and never an error', async () => {
    await put(FILES.intune, [intuneRaw()])
    const events: Parameters<SnapshotProgress>[0][] = []
    const data = await readSnapshot(dir, (e) => events.push(e))
    expect(data.intune.status).toBe('ok')
    for (const source of ['entra', 'autopilot', 'defender'] as const) {
      expect(data[source]).toEqual({ status: 'missing', records: [], origin: null })
      expect(data[source].error).toBeUndefined()
    }
    expect(events).toEqual([
      { source: 'intune', status: 'ok', records: 1 },
      { source: 'entra', status: 'missing', records: 0 },
      { source: 'autopilot', status: 'missing', records: 0 },
      { source: 'defender', status: 'missing', records: 0 },
    ])
  })

  it('rejects a folder that holds none of the four exports, naming the expected files', async () => {
    await put('meta.json', { tenantId: 'x' })
    await put('README.txt', 'not an export')
    await put('teamworkDevices.json', [])
    const err = await inputErrorOf()
    expect(err.message).toContain('no export found')
    for (const name of Object.values(FILES)) expect(err.message).toContain(name)
    expect(err.hint).toBeTruthy()
  })

  it('rejects an empty folder', async () => {
    const err = await inputErrorOf()
    expect(err.message).toContain(FILES.intune)
  })

  it('rejects a folder that does not exist', async () => {
    const missing = join(dir, 'no-such-folder')
    const err = await inputErrorOf(missing)
    expect(err.message).toContain(missing)
    expect(err.message).toContain('the folder does not exist')
  })

  it('rejects a file given as the folder', async () => {
    await put(FILES.intune, [])
    const err = await inputErrorOf(join(dir, FILES.intune))
    expect(err.message).toContain('this is a file, not a folder')
  })

  it('rejects both devices.json and devices.jsonl', async () => {
    await put(FILES.entra, [entraRaw()])
    await put('devices.jsonl', jsonl([entraRaw()]))
    const err = await inputErrorOf()
    expect(err.message).toContain('devices.json')
    expect(err.message).toContain('devices.jsonl')
    expect(err.message).toContain('unclear which export is current')
  })

  it('tells a snapshot folder from another folder', async () => {
    expect(looksLikeSnapshot(dir)).toBe(false)
    await put('machines.jsonl', '')
    expect(looksLikeSnapshot(dir)).toBe(true)
  })
})

describe('readSnapshot: malformed files', () => {
  const full = JSON.stringify({ value: [intuneRaw(), intuneRaw({ id: 'second' })] }, null, 2)
  const cutAfter = (marker: string, nth = 1): string => {
    let at = -1
    for (let i = 0; i < nth; i++) at = full.indexOf(marker, at + 1)
    return full.slice(0, at + marker.length)
  }

  it.each<[string, string]>([
    ['inside a string', cutAfter('"LT-0')],
    ['after a property value', cutAfter('"LT-0107"')],
    ['after a colon', cutAfter('"deviceName":')],
    ['after a complete record and its comma', cutAfter('},\n')],
    ['after the opening bracket of value', cutAfter('[\n')],
    ['before the final brace', full.slice(0, -1)],
  ])('rejects JSON truncated %s, naming the file, line and column', async (_where, text) => {
    await put(FILES.intune, text)
    const err = await inputErrorOf()
    expect(err.file).toBe(FILES.intune)
    expect(err.message).toContain(FILES.intune)
    expect(err.message).toMatch(/line \d+, column \d+/)
    expect(err.message).toContain('truncated')
  })

  it('names the line and column of a syntax error in the middle of the file', async () => {
    await put(FILES.entra, '{\n  "value": [\n    { "id": "a", },\n    { "id": "b" }\n  ]\n}\n')
    const err = await inputErrorOf()
    expect(err.message).toMatch(/^devices\.json: invalid JSON at line 3, column \d+/)
    expect(err.message).not.toContain('truncated')
  })

  it('rejects an export that still has @odata.nextLink (only one page)', async () => {
    await put(FILES.intune, {
      value: [intuneRaw()],
      '@odata.nextLink': 'https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$skiptoken=abc',
    })
    const err = await inputErrorOf()
    expect(err.message).toContain(FILES.intune)
    expect(err.message).toContain('only one page')
    expect(err.message).toContain('@odata.nextLink')
  })

  it.each<[string, unknown]>([
    ['an object without value', { devices: [] }],
    ['value that is not an array', { value: { id: 'x' } }],
    ['a string', '"managedDevices"'],
    ['null', 'null'],
  ])('rejects a document that is %s', async (_name, doc) => {
    await put(FILES.intune, doc)
    const err = await inputErrorOf()
    expect(err.message).toContain(FILES.intune)
    expect(err.message).toContain('expected a collection response')
  })

  it('names the line of a bad JSONL line', async () => {
    await put(
      'machines.jsonl',
      `${JSON.stringify(defenderRaw())}\n\n{"id": "abc", "lastSeen": \n${JSON.stringify(defenderRaw({ id: 'x2' }))}\n`,
    )
    const err = await inputErrorOf()
    expect(err.message).toContain('machines.jsonl')
    expect(err.message).toContain('line 3 is not valid JSON')
    expect(err.problems[0]?.record).toBe(3)
  })

  it('names the line number as the record number of an invalid JSONL record', async () => {
    await put(
      'devices.jsonl',
      `${JSON.stringify(entraRaw())}\n\n${JSON.stringify(entraRaw({ id: 'e2', accountEnabled: 'no' }))}\n`,
    )
    const err = await inputErrorOf()
    expect(err.message).toBe(
      'devices.jsonl: record 3 (id "e2") field "accountEnabled": Invalid input: expected boolean, received string',
    )
  })
})

describe('readSnapshot: invalid records', () => {
  it('names the file, record number, id and field of a wrong type', async () => {
    await put(FILES.entra, { value: [entraRaw({ id: 'e1' }), entraRaw({ id: 'e2', accountEnabled: 'yes' })] })
    const err = await inputErrorOf()
    expect(err.file).toBe(FILES.entra)
    expect(err.problems).toEqual([
      { record: 2, recordId: 'e2', field: 'accountEnabled', problem: expect.any(String) },
    ])
    expect(err.message).toMatch(/^devices\.json: record 2 \(id "e2"\) field "accountEnabled": /)
    expect(err.hint).toContain('Entra ID')
  })

  it('names a nested field by its dotted path', async () => {
    await put(FILES.entra, [entraRaw({ physicalIds: ['[ZTDId]:x', 7] })])
    const err = await inputErrorOf()
    expect(err.message).toContain('field "physicalIds.1"')
  })

  it('reports a record that is not an object, without an id', async () => {
    await put(FILES.intune, [intuneRaw(), 'LT-0107'])
    const err = await inputErrorOf()
    expect(err.problems).toEqual([{ record: 2, problem: expect.any(String) }])
    expect(err.message).toMatch(/^managedDevices\.json: record 2: /)
  })

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['a number', 12],
  ])('rejects an id that is %s', async (_name, id) => {
    await put(FILES.intune, [intuneRaw({ id })])
    const err = await inputErrorOf()
    expect(err.message).toContain('record 1')
    expect(err.message).toContain('field "id"')
  })

  it('names the field of an impossible date', async () => {
    await put(FILES.intune, [intuneRaw({ lastSyncDateTime: '2026-02-30T00:00:00Z' })])
    const err = await inputErrorOf()
    expect(err.message).toBe(
      `managedDevices.json: record 1 (id "${INTUNE_ID}") field "lastSyncDateTime": "2026-02-30T00:00:00Z" is not a real date-time`,
    )
  })

  it('names the field of a value that is not a date', async () => {
    await put(FILES.defender, [defenderRaw({ lastSeen: 'yesterday' })])
    const err = await inputErrorOf()
    expect(err.message).toContain('machines.json')
    expect(err.message).toContain('field "lastSeen"')
    expect(err.message).toContain('"yesterday" is not an ISO 8601 date-time')
  })

  it('names the field of a timestamp that is not a string', async () => {
    await put(FILES.entra, [entraRaw({ approximateLastSignInDateTime: 1793404800000 })])
    const err = await inputErrorOf()
    expect(err.message).toContain('field "approximateLastSignInDateTime"')
  })

  it('reads 0001-01-01T00:00:00Z, "" and null timestamps as null (unknown)', async () => {
    await put(FILES.intune, [
      intuneRaw({ id: 'm1', lastSyncDateTime: '0001-01-01T00:00:00Z' }),
      intuneRaw({ id: 'm2', lastSyncDateTime: '' }),
      intuneRaw({ id: 'm3', lastSyncDateTime: null }),
      intuneRaw({ id: 'm4', lastSyncDateTime: '9999-12-31T23:59:59Z' }),
    ])
    const data = await readSnapshot(dir)
    expect(data.intune.records.map((r) => [r.id, r.lastSyncDateTime])).toEqual([
      ['m1', null],
      ['m2', null],
      ['m3', null],
      ['m4', null],
    ])
  })

  it('rejects duplicate ids, naming both record numbers', async () => {
    await put(FILES.autopilot, {
      value: [autopilotRaw({ id: 'ap1' }), autopilotRaw({ id: 'ap2' }), autopilotRaw({ id: 'ap1' })],
    })
    const err = await inputErrorOf()
    expect(err.message).toBe(
      'windowsAutopilotDeviceIdentities.json: record 3 (id "ap1") field "id": duplicate id: record 1 has the same id',
    )
  })

  it('rejects ids that differ only in surrounding whitespace as duplicates', async () => {
    await put(FILES.autopilot, [autopilotRaw({ id: 'ap1' }), autopilotRaw({ id: ' ap1 ' })])
    const err = await inputErrorOf()
    expect(err.message).toContain('record 2')
    expect(err.message).toContain('record 1 has the same id')
  })

  it('rejects Defender machine ids that differ only in case, since both read as the same id', async () => {
    await put(FILES.defender, [
      defenderRaw({ id: DEFENDER_ID }),
      defenderRaw({ id: DEFENDER_ID.toLowerCase() }),
    ])
    const err = await inputErrorOf()
    expect(err.message).toContain('machines.json')
    expect(err.message).toContain('record 1 has the same id')
  })

  it('lists at most 5 problems and counts the rest', async () => {
    await put(
      FILES.entra,
      Array.from({ length: 8 }, (_, i) => entraRaw({ id: `e${i + 1}`, accountEnabled: 'yes' })),
    )
    const err = await inputErrorOf()
    expect(err.problems).toHaveLength(5)
    expect(err.totalProblems).toBe(8)
    const lines = err.message.split('\n')
    expect(lines[0]).toBe('devices.json: 8 problems')
    expect(lines.slice(1, 6).map((l) => l.replace(/:.*/, ''))).toEqual(
      [1, 2, 3, 4, 5].map((n) => `  - record ${n} (id "e${n}") field "accountEnabled"`),
    )
    expect(lines[6]).toBe('  - … and 3 more problems')
    expect(lines).toHaveLength(7)
  })

  it('lists every problem when there are exactly 5', async () => {
    await put(
      FILES.entra,
      Array.from({ length: 5 }, (_, i) => entraRaw({ id: `e${i + 1}`, accountEnabled: 'yes' })),
    )
    const err = await inputErrorOf()
    expect(err.message).not.toContain('more problems')
    expect(err.message.split('\n')).toHaveLength(6)
  })
})

describe('readSnapshot: meta.json and the Teams inventory', () => {
  beforeEach(async () => {
    await put(FILES.intune, [intuneRaw()])
  })

  it('reads takenAt and tenantId', async () => {
    await put('meta.json', {
      tenantId: ' 5555ad5b-e7d6-4aa0-a112-0a77935a702b ',
      takenAt: '2026-11-01T01:00:00+01:00',
    })
    const data = await readSnapshot(dir)
    expect(data.tenantId).toBe('5555ad5b-e7d6-4aa0-a112-0a77935a702b')
    expect(data.takenAt).toBe(Date.parse('2026-11-01T00:00:00Z'))
  })

  it('accepts meta.json without either field', async () => {
    await put('meta.json', {})
    const data = await readSnapshot(dir)
    expect(data.tenantId).toBeNull()
    expect(data.takenAt).toBeNull()
  })

  it.each(['2026-02-30T00:00:00Z', 'yesterday'])(
    'rejects takenAt %j, naming meta.json and the field',
    async (takenAt) => {
      await put('meta.json', { takenAt })
      const err = await inputErrorOf()
      expect(err.file).toBe('meta.json')
      expect(err.message).toMatch(/^meta\.json: field "takenAt": /)
      expect(err.message).toContain(takenAt)
    },
  )

  it('rejects a takenAt that is not a string', async () => {
    await put('meta.json', { takenAt: 1793491200000 })
    const err = await inputErrorOf()
    expect(err.message).toContain('meta.json')
    expect(err.message).toContain('field "takenAt"')
  })

  it('rejects a meta.json that is not JSON, with line and column', async () => {
    await put('meta.json', '{\n  "tenantId": "x",\n  takenAt: 1\n}')
    const err = await inputErrorOf()
    expect(err.message).toMatch(/^meta\.json: invalid JSON at line 3, column \d+/)
  })

  it('reads Teams serials from teamworkDevices.json into teamsSerials', async () => {
    await put('teamworkDevices.json', {
      value: [
        {
          id: 't1',
          deviceType: 'ipPhone',
          hardwareDetail: { serialNumber: ' pf3k x9q1 ', manufacturer: 'Yealink', model: 'MP56' },
        },
        { id: 't2', deviceType: 'teamsRoom', hardwareDetail: null },
        { id: 't3', deviceType: 'teamsPanel' },
        { id: 't4', deviceType: 'ipPhone', hardwareDetail: { serialNumber: 'To be filled by O.E.M.' } },
        { id: 't5', deviceType: 'ipPhone', hardwareDetail: { serialNumber: 'YL8812340' } },
      ],
    })
    const events: Parameters<SnapshotProgress>[0][] = []
    const data = await readSnapshot(dir, (e) => events.push(e))
    expect(data.teamsSerials).toEqual(new Set(['PF3KX9Q1', 'YL8812340']))
    expect(events).toContainEqual({ source: 'teams', status: 'ok', records: 5 })
  })

  it('reports an invalid Teams inventory as an error naming the file', async () => {
    await put(
      'teamworkDevices.jsonl',
      `${JSON.stringify({ id: 't1', hardwareDetail: { serialNumber: 5 } })}\n`,
    )
    const err = await inputErrorOf()
    expect(err.message).toContain('teamworkDevices.jsonl')
    expect(err.message).toContain('field "hardwareDetail.serialNumber"')
  })
})
