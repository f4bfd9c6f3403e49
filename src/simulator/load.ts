/** @module Loads simulator data: the deterministic demo tenant, or a snapshot folder's raw exports as they are (the product validates them). */
import { createReadStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { generateDemoTenant } from '../demo/generate.js'
import { demoRecoveryKeys } from '../demo/recovery-keys.js'
import { COLLECTIONS, type CollectionName } from './state.js'
import type { SimulatorData } from './types.js'

export type SimulatorDataSource = { devices: number; seed: number } | { snapshotDir: string }

async function readJsonCollection(path: string): Promise<object[]> {
  const doc: unknown = JSON.parse(await readFile(path, 'utf8'))
  if (Array.isArray(doc)) return doc as object[]
  const value = (doc as { value?: unknown } | null)?.value
  if (Array.isArray(value)) return value as object[]
  throw new Error(`simulator: ${path} holds neither a JSON array nor { "value": [ … ] }`)
}

async function readJsonLines(path: string): Promise<object[]> {
  const out: object[] = []
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  let n = 0
  for await (const line of lines) {
    n++
    if (line.trim() === '') continue
    try {
      out.push(JSON.parse(line) as object)
    } catch (err) {
      throw new Error(`simulator: ${path} line ${n} is not valid JSON: ${(err as Error).message}`)
    }
  }
  return out
}

async function readCollectionFile(dir: string, name: CollectionName): Promise<object[] | undefined> {
  const json = join(dir, `${name}.json`)
  const jsonl = join(dir, `${name}.jsonl`)
  if (existsSync(json)) return readJsonCollection(json)
  if (existsSync(jsonl)) return readJsonLines(jsonl)
  return undefined
}

/**
 * Demo tenant for `{ devices, seed }`; otherwise each `<collection>.json` / `.jsonl` and `meta.json` of the folder.
 * A missing export serves an empty collection. BitLocker recovery keys come from `bitlockerRecoveryKeys.json` when
 * the folder has one, else are made up for the joined Windows devices (`demoRecoveryKeys`), so `keys export` has
 * something to read.
 * @throws Error when the folder has none of the exports or a file is not JSON.
 */
export async function loadSimulatorData(source: SimulatorDataSource): Promise<SimulatorData> {
  if ('devices' in source) {
    const t = generateDemoTenant({ devices: source.devices, seed: source.seed })
    return {
      managedDevices: t.managedDevices,
      devices: t.devices,
      windowsAutopilotDeviceIdentities: t.windowsAutopilotDeviceIdentities,
      machines: t.machines,
      teamworkDevices: t.teamworkDevices,
      bitlockerRecoveryKeys: demoRecoveryKeys(t.devices),
      meta: t.meta,
    }
  }
  const dir = source.snapshotDir
  const loaded = await Promise.all(COLLECTIONS.map((name) => readCollectionFile(dir, name)))
  if (loaded.every((c) => c === undefined))
    throw new Error(`simulator: ${dir} holds none of ${COLLECTIONS.map((c) => `${c}.json`).join(', ')}`)
  const [managedDevices, devices, windowsAutopilotDeviceIdentities, machines, teamworkDevices] = loaded
  // Not an export offboard makes (it never reads keys into a snapshot): a test file may bring one, else keys are made up.
  const keysPath = join(dir, 'bitlockerRecoveryKeys.json')
  const keys = existsSync(keysPath) ? await readJsonCollection(keysPath) : demoRecoveryKeys(devices ?? [])
  const metaPath = join(dir, 'meta.json')
  const meta = existsSync(metaPath)
    ? (JSON.parse(await readFile(metaPath, 'utf8')) as SimulatorData['meta'])
    : undefined
  return {
    managedDevices: managedDevices ?? [],
    devices: devices ?? [],
    windowsAutopilotDeviceIdentities: windowsAutopilotDeviceIdentities ?? [],
    machines: machines ?? [],
    teamworkDevices: teamworkDevices ?? [],
    bitlockerRecoveryKeys: keys,
    ...(meta ? { meta } : {}),
  }
}
