/** @module `offboard keys export` end to end against the simulator: the file (0600, valid), the audit log, refusals. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { KeysExportFile, keysExportedAt } from '../../actions/keys-export.js'
import { ACTOR, entraObjectId, graphOf, TENANT } from '../../actions/test-support.js'
import { readAudit } from '../../agent/audit.js'
import { PermissionDenied } from '../../agent/errors.js'
import { addUser } from '../../agent/roles.js'
import { completeRun, startRun } from '../../agent/runs.js'
import { fakeReport, fakeSuggestion } from '../../agent/test-fixtures.js'
import type { Action } from '../../domain/action.js'
import { Report } from '../../domain/report.js'
import { SourceError, UsageError } from '../../lib/errors.js'
import { DEFAULT_APP, type Simulator, startSimulator } from '../../simulator/index.js'
import { entraDevice, guid } from '../../simulator/test-support.js'
import { borrowStore, type Store } from '../../store/store.js'
import { testBackends } from '../../store/test-backends.js'
import { registerKeys } from './keys.js'

const NOW = new Date('2026-11-20T12:00:00.000Z')
const deviceId = (n: number) => guid(n, 'd0000000')
/** Recognisable 48-digit recovery passwords, so a leak into the audit log or the output would show. */
const secret = (n: number, k: number) =>
  Array.from({ length: 8 }, (_, i) => String((n * 100 + k * 10 + i) % 1_000_000).padStart(6, '0')).join('-')

function key(n: number, k: number) {
  return {
    id: guid(n * 10 + k, 'b1000000'),
    deviceId: deviceId(n),
    volumeType: k === 1 ? 'operatingSystemVolume' : 'fixedDataVolume',
    createdDateTime: '2025-03-01T10:00:00Z',
    key: secret(n, k),
  }
}

const deleteStep = (n: number): Action => ({
  step: 1,
  system: 'entra',
  operation: 'delete',
  target: entraObjectId(n),
  targetName: `PC-${n}`,
  automation: 'optIn',
  instructions: 'Export the keys, then delete the object.',
  prerequisites: [],
  warnings: [],
  request: { api: 'graph', method: 'DELETE', path: `/devices/${entraObjectId(n)}` },
})

const disableStep = (n: number): Action => ({
  ...deleteStep(n),
  operation: 'disable',
  automation: 'agent',
  request: { api: 'graph', method: 'PATCH', path: `/devices/${entraObjectId(n)}` },
})

/** Devices 1 and 2 are to be deleted (1 has two keys, 2 none); 3 is only to be disabled (one key); 4 is not suggested. */
async function seed(store: Store): Promise<void> {
  await addUser(store, ACTOR, ACTOR, 'admin')
  const base = fakeReport(TENANT, [])
  const suggestions = [1, 2, 3].map((n) => {
    const s = fakeSuggestion({ device: n, category: n === 3 ? 'duplicate' : 'stale' })
    return {
      ...s,
      device: {
        ...s.device,
        ids: { ...s.device.ids, entraObjectId: entraObjectId(n), entraDeviceId: deviceId(n) },
        records: [{ source: 'entra' as const, id: entraObjectId(n), name: `PC-${n}`, lastActivity: null }],
      },
      actions: [n === 3 ? disableStep(n) : deleteStep(n)],
    }
  })
  const report = Report.parse({
    ...base,
    summary: { ...base.summary, counts: { ...base.summary.counts, devices: 3, suggestions: 3 } },
    suggestions,
  })
  const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: ACTOR })
  await completeRun(store, run.id, report)
}

const simData = () => ({
  managedDevices: [],
  devices: [1, 2, 3, 4].map((n) => entraDevice(n, { displayName: `PC-${n}`, accountEnabled: false })),
  windowsAutopilotDeviceIdentities: [],
  machines: [],
  bitlockerRecoveryKeys: [key(1, 1), key(1, 2), key(3, 1), key(4, 1)],
  meta: { tenantId: TENANT },
})

describe.each(testBackends())('offboard keys export on $name', (backend) => {
  const sims: Simulator[] = []
  let dir = ''
  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close()
    await backend.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  afterAll(() => backend.teardown())

  async function setUp(roles?: string[]) {
    dir = await mkdtemp(join(tmpdir(), 'offboard-keys-'))
    const store = await backend.create()
    await seed(store)
    const sim = await startSimulator({
      data: simData(),
      ...(roles ? { apps: [{ ...DEFAULT_APP, roles }] } : {}),
    })
    sims.push(sim)
    return { store, sim, file: join(dir, 'keys.json') }
  }

  async function cli(store: Store, sim: Simulator, args: string[], user = ACTOR) {
    let out = ''
    const program = new Command().exitOverride()
    registerKeys(program, {
      openStore: async () => borrowStore(store),
      env: { OFFBOARD_TENANT_ID: TENANT, OFFBOARD_USER: user },
      write: async (t: string) => {
        out += t
      },
      connect: async () => graphOf(sim),
      now: () => NOW,
    })
    await program.parseAsync(['node', 'offboard', 'keys', ...args])
    return out
  }

  it('writes the keys of the objects to be deleted to a 0600 file and audits each device without a key', async () => {
    const { store, sim, file } = await setUp()
    const out = await cli(store, sim, ['export', '-o', file, '--format', 'json'])
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const doc = KeysExportFile.parse(JSON.parse(await readFile(file, 'utf8')))
    expect(doc.tenantId).toBe(TENANT)
    expect(doc.exportedAt).toBe(NOW.toISOString())
    expect(doc.devices.map((d) => [d.objectId, d.deviceId, d.keys.map((k) => k.key)])).toEqual([
      [entraObjectId(1), deviceId(1), [secret(1, 1), secret(1, 2)]],
      [entraObjectId(2), deviceId(2), []],
    ])
    expect(doc.devices[0]?.keys[1]).toMatchObject({
      volumeType: 'fixedDataVolume',
      createdDateTime: '2025-03-01T10:00:00Z',
    })

    const result = JSON.parse(out)
    expect(result).toMatchObject({ file, keys: 2, skipped: [] })
    const audit = (await readAudit(store.db, { tenantId: TENANT })).filter((e) => e.action === 'keys.export')
    expect(audit.map((e) => [e.target, e.after, e.result])).toEqual([
      [entraObjectId(1), { deviceId: deviceId(1), keys: 2, file }, 'ok'],
      [entraObjectId(2), { deviceId: deviceId(2), keys: 0, file }, 'ok'],
    ])
    const everything = JSON.stringify(await readAudit(store.db)) + out
    for (const k of [secret(1, 1), secret(1, 2), secret(3, 1)]) expect(everything).not.toContain(k)

    expect(await keysExportedAt(store, TENANT, entraObjectId(1))).toEqual(NOW)
    expect(await keysExportedAt(store, TENANT, entraObjectId(3))).toBeNull()
    // Reading keys changes nothing in the tenant.
    expect(sim.calls()).toEqual([])
  })

  it('refuses to overwrite an existing file before reading any key, and replaces it with --force', async () => {
    const { store, sim, file } = await setUp()
    await writeFile(file, 'earlier export\n')
    const before = sim.requests().length
    await expect(cli(store, sim, ['export', '-o', file])).rejects.toThrow(
      /already exists.*does not overwrite/,
    )
    expect(await readFile(file, 'utf8')).toBe('earlier export\n')
    expect(sim.requests().length).toBe(before)
    expect((await readAudit(store.db)).some((e) => e.action === 'keys.export')).toBe(false)

    const out = await cli(store, sim, ['export', '-o', file, '--force', '--format', 'table'])
    expect(out).toContain(`2 recovery keys of 2 devices written to ${file} (mode 0600)`)
    expect(KeysExportFile.parse(JSON.parse(await readFile(file, 'utf8'))).devices).toHaveLength(2)
  })

  it('--all exports every Entra object of the suggestions; --category narrows to its delete steps', async () => {
    const { store, sim, file } = await setUp()
    await cli(store, sim, ['export', '-o', file, '--all'])
    const doc = KeysExportFile.parse(JSON.parse(await readFile(file, 'utf8')))
    expect(doc.devices.map((d) => d.objectId)).toEqual([1, 2, 3].map(entraObjectId))
    expect(doc.devices[2]?.keys.map((k) => k.key)).toEqual([secret(3, 1)])

    const other = join(dir, 'dup.json')
    const none = await cli(store, sim, [
      'export',
      '-o',
      other,
      '--category',
      'duplicate',
      '--format',
      'table',
    ])
    expect(none).toContain('No Entra object to export')
    await expect(stat(other)).rejects.toThrow()
  })

  it('a 403 on the key value names BitlockerKey.Read.All and the delegated fallback; no file, no audit', async () => {
    const roles = DEFAULT_APP.roles.filter((r) => r !== 'BitlockerKey.Read.All')
    const { store, sim, file } = await setUp(roles)
    const err = await cli(store, sim, ['export', '-o', file]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SourceError)
    const e = err as SourceError
    expect(e.status).toBe(403)
    expect(e.permission).toBe('BitlockerKey.Read.All')
    expect(e.message).toContain('while reading recovery key')
    expect(e.hint).toMatch(
      /BitlockerKey\.Read\.All.*ReadBasic\.All lists keys but not their values.*OFFBOARD_AUTH=deviceCode/,
    )
    await expect(stat(file)).rejects.toThrow()
    expect((await readAudit(store.db)).some((x) => x.action === 'keys.export')).toBe(false)
  })

  it('needs the actor role, and rejects contradictory selections', async () => {
    const { store, sim, file } = await setUp()
    await addUser(store, ACTOR, 'bob', 'reader')
    await expect(cli(store, sim, ['export', '-o', file], 'bob')).rejects.toThrow(PermissionDenied)
    await expect(cli(store, sim, ['export', '-o', file, '--all', '--category', 'stale'])).rejects.toThrow(
      UsageError,
    )
    await expect(stat(file)).rejects.toThrow()
  })
})
