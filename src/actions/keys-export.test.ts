/** @module Recovery key export core: paging through a device's keys, the secret file writer, and `keysExportedAt`. */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { appendAudit } from '../agent/audit.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { entraDevice, guid } from '../simulator/test-support.js'
import { testBackends } from '../store/test-backends.js'
import {
  ExportFileExists,
  fetchDeviceKeys,
  KEYS_EXPORT_ACTION,
  keysExportedAt,
  resolveTargets,
  writeSecretFile,
} from './keys-export.js'
import { entraObjectId, graphOf, TENANT } from './test-support.js'

describe('reading recovery keys from the simulator', () => {
  let sim: Simulator
  beforeAll(async () => {
    // 230 keys on one device: more than two pages of the list.
    const keys = Array.from({ length: 230 }, (_, i) => ({
      id: guid(i + 1, 'b1000000'),
      deviceId: guid(1, 'd0000000'),
      volumeType: 'fixedDataVolume',
      createdDateTime: '2025-01-01T00:00:00Z',
      key: `key-${i + 1}`,
    }))
    keys.push({ ...keys[0]!, id: guid(999, 'b1000000'), deviceId: guid(2, 'd0000000'), key: 'other' })
    // The docs' examples answer volumeType as "1"; a number must not break the export either.
    ;(keys[0] as Record<string, unknown>).volumeType = 1
    sim = await startSimulator({
      data: {
        managedDevices: [],
        devices: [entraDevice(1), entraDevice(2, { deviceId: '' })],
        windowsAutopilotDeviceIdentities: [],
        machines: [],
        bitlockerRecoveryKeys: keys,
      },
    })
  })
  afterAll(() => sim.close())

  it("follows every page of one device's keys and reads each value", async () => {
    const graph = graphOf(sim)
    const d = await fetchDeviceKeys(graph, {
      objectId: entraObjectId(1),
      deviceId: guid(1, 'd0000000'),
      displayName: 'PC-1',
    })
    expect(d.keys).toHaveLength(230)
    expect(d.keys[229]).toEqual({
      id: guid(230, 'b1000000'),
      volumeType: 'fixedDataVolume',
      createdDateTime: '2025-01-01T00:00:00Z',
      key: 'key-230',
    })
    expect(d.keys.some((k) => k.key === 'other')).toBe(false)
    expect(d.keys[0]?.volumeType).toBe('1')
  })

  it('skips an object that is gone or has no deviceId, saying why', async () => {
    const { found, skipped } = await resolveTargets(graphOf(sim), [
      { objectId: entraObjectId(1), displayName: 'old name' },
      { objectId: entraObjectId(2), displayName: null },
      { objectId: entraObjectId(3), displayName: 'PC-3' },
    ])
    expect(found).toEqual([
      { objectId: entraObjectId(1), deviceId: guid(1, 'd0000000'), displayName: 'PC-0001' },
    ])
    expect(skipped.map((s) => [s.objectId, s.reason])).toEqual([
      [entraObjectId(2), expect.stringContaining('no deviceId')],
      [entraObjectId(3), expect.stringContaining('gone from Entra')],
    ])
  })
})

describe('writeSecretFile', () => {
  let dir = ''
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('writes mode 0600, refuses an existing file without force, and leaves no temporary file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'offboard-secret-'))
    const file = join(dir, 'k.json')
    await writeSecretFile(file, 'one', false)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await expect(writeSecretFile(file, 'two', false)).rejects.toThrow(ExportFileExists)
    expect(await readFile(file, 'utf8')).toBe('one')
    await writeSecretFile(file, 'three', true)
    expect(await readFile(file, 'utf8')).toBe('three')
    expect(await readdir(dir)).toEqual(['k.json'])
  })

  it('replacing a readable file with --force still leaves only the owner able to read it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'offboard-secret-'))
    const file = join(dir, 'k.json')
    await writeFile(file, 'old', { mode: 0o644 })
    await writeSecretFile(file, 'new', true)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
  })
})

describe.each(testBackends())('keysExportedAt on $name', (backend) => {
  beforeAll(() => backend.setup(), 60_000)
  afterEach(() => backend.cleanup())
  afterAll(() => backend.teardown())

  it('is the latest ok export of that object in that tenant', async () => {
    const store = await backend.create()
    const id = entraObjectId(1)
    const entry = (at: string, over: Partial<Parameters<typeof appendAudit>[2]> = {}) =>
      appendAudit(store.db, new Date(at), {
        actor: 'alice',
        action: KEYS_EXPORT_ACTION,
        tenantId: TENANT,
        target: id,
        after: { keys: 1 },
        result: 'ok',
        ...over,
      })
    expect(await keysExportedAt(store, TENANT, id)).toBeNull()
    await entry('2026-10-01T00:00:00Z', { result: 'failed' })
    expect(await keysExportedAt(store, TENANT, id)).toBeNull()
    await entry('2026-10-02T00:00:00Z', { tenantId: 'another-tenant' })
    await entry('2026-10-03T00:00:00Z', { target: entraObjectId(2) })
    await entry('2026-10-04T00:00:00Z', { action: 'user.add' })
    expect(await keysExportedAt(store, TENANT, id)).toBeNull()
    await entry('2026-10-05T00:00:00Z')
    await entry('2026-10-06T00:00:00Z')
    expect(await keysExportedAt(store, TENANT, id)).toEqual(new Date('2026-10-06T00:00:00Z'))
  })
})
