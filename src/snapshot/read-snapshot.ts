/** @module Reads a tenant snapshot folder: the four exports, the optional Teams inventory and meta.json. */
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import type {
  AutopilotRecord,
  DefenderRecord,
  EntraRecord,
  IntuneRecord,
  SourceName,
} from '../domain/device.js'
import { parseTimestamp } from '../domain/time.js'
import { InputError } from '../lib/errors.js'
import { SOURCES } from '../sources/index.js'
import type { SourceDefinition } from '../sources/source.js'
import { TEAMS_COLLECTION, TeamworkDevice, teamsSerialKeys } from '../sources/teams/index.js'
import { type CollectionFile, describeJsonError, readCollection } from './read-collection.js'

export type SourceLoadStatus = 'ok' | 'missing' | 'error'

export interface SourceLoad<R> {
  status: SourceLoadStatus
  records: R[]
  /** File read, or the endpoint for live reads. */
  origin: string | null
  /** What failed, for `error`. */
  error?: string
}

/** Everything the engine needs from a tenant, already validated and mapped to domain records. */
export interface TenantData {
  tenantId: string | null
  /** When the data was taken (epoch ms), if known. */
  takenAt: number | null
  intune: SourceLoad<IntuneRecord>
  entra: SourceLoad<EntraRecord>
  autopilot: SourceLoad<AutopilotRecord>
  defender: SourceLoad<DefenderRecord>
  /** Serial keys from the Teams devices inventory; null when that inventory was not exported. */
  teamsSerials: Set<string> | null
}

const Meta = z.object({
  tenantId: z.string().nullish(),
  takenAt: z.string().nullish(),
})

/** Progress callback: called once per collection as it is read. */
export type SnapshotProgress = (event: {
  source: SourceName | 'teams'
  status: SourceLoadStatus
  records: number
}) => void

/**
 * Reads a snapshot folder. A missing export means "source not connected", never "no devices".
 * @throws InputError for an unreadable folder, a malformed file, an invalid record or a duplicate id.
 */
export async function readSnapshot(dir: string, onProgress?: SnapshotProgress): Promise<TenantData> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'the folder does not exist'
        : code === 'ENOTDIR'
          ? 'this is a file, not a folder'
          : `cannot read the folder: ${(err as Error).message}`
    throw new InputError(
      dir,
      [{ problem: why }],
      'Pass --snapshot the folder that holds managedDevices.json, devices.json, windowsAutopilotDeviceIdentities.json and machines.json.',
    )
  }
  const present = new Set(names)
  const known = Object.values(SOURCES).flatMap((s) => [`${s.collection}.json`, `${s.collection}.jsonl`])
  if (!known.some((n) => present.has(n))) {
    throw new InputError(
      dir,
      [
        {
          problem: `no export found; expected any of ${known.filter((n) => n.endsWith('.json')).join(', ')} (or .jsonl)`,
        },
      ],
      'Create a snapshot with `offboard snapshot --out DIR` or `offboard demo --out DIR`.',
    )
  }

  const meta = await readMeta(dir, present)
  const load = async <R extends { id: string }>(
    def: SourceDefinition<Record<string, unknown>, R & import('../domain/device.js').AnyRecord>,
  ): Promise<SourceLoad<R>> => {
    const file = locate(dir, def.collection, present)
    if (!file) {
      onProgress?.({ source: def.name, status: 'missing', records: 0 })
      return { status: 'missing', records: [], origin: null }
    }
    const hint = `Re-export ${def.title} (${def.endpoint.path}) or fix the record; offboard does not guess at malformed data.`
    const records = (await readCollection(
      file,
      def.schema as z.ZodType<Record<string, unknown> & { id: string }>,
      hint,
      (r) => def.toRecord(r),
    )) as R[]
    onProgress?.({ source: def.name, status: 'ok', records: records.length })
    return { status: 'ok', records, origin: file.name }
  }

  const intune = await load<IntuneRecord>(SOURCES.intune as never)
  const entra = await load<EntraRecord>(SOURCES.entra as never)
  const autopilot = await load<AutopilotRecord>(SOURCES.autopilot as never)
  const defender = await load<DefenderRecord>(SOURCES.defender as never)

  let teamsSerials: Set<string> | null = null
  const teamsFile = locate(dir, TEAMS_COLLECTION, present)
  if (teamsFile) {
    const teams = await readCollection(
      teamsFile,
      TeamworkDevice,
      'Re-export the Teams devices inventory (beta /teamwork/devices) or remove the file.',
    )
    teamsSerials = teamsSerialKeys(teams)
    onProgress?.({ source: 'teams', status: 'ok', records: teams.length })
  }
  return { tenantId: meta.tenantId, takenAt: meta.takenAt, intune, entra, autopilot, defender, teamsSerials }
}

function locate(dir: string, collection: string, present: Set<string>): CollectionFile | null {
  const json = `${collection}.json`
  const jsonl = `${collection}.jsonl`
  if (present.has(json) && present.has(jsonl)) {
    throw new InputError(
      json,
      [{ problem: `both ${json} and ${jsonl} exist, so it is unclear which export is current` }],
      'Keep one of the two files.',
    )
  }
  if (present.has(json)) return { path: join(dir, json), name: json, format: 'json' }
  if (present.has(jsonl)) return { path: join(dir, jsonl), name: jsonl, format: 'jsonl' }
  return null
}

/** The tenant id a snapshot folder's meta.json names, or null (no meta.json, no tenant id, unreadable). */
export async function snapshotTenantId(dir: string): Promise<string | null> {
  try {
    const doc = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { tenantId?: unknown }
    return typeof doc.tenantId === 'string' && doc.tenantId.trim() ? doc.tenantId.trim() : null
  } catch {
    return null
  }
}

async function readMeta(
  dir: string,
  present: Set<string>,
): Promise<{ tenantId: string | null; takenAt: number | null }> {
  if (!present.has('meta.json')) return { tenantId: null, takenAt: null }
  const path = join(dir, 'meta.json')
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new InputError('meta.json', [{ problem: `cannot read the file: ${err.message}` }])
  })
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new InputError('meta.json', [{ problem: describeJsonError(err, text) }])
  }
  const parsed = Meta.safeParse(doc)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new InputError(
      'meta.json',
      [{ field: issue.path.join('.') || undefined, problem: issue.message }],
      'meta.json holds { "tenantId": "<guid>", "takenAt": "<ISO date-time>" }; both are optional.',
    )
  }
  let takenAt: number | null = null
  if (parsed.data.takenAt) {
    const t = parseTimestamp(parsed.data.takenAt)
    if (!t.ok) throw new InputError('meta.json', [{ field: 'takenAt', problem: t.problem }])
    takenAt = t.ms
  }
  return { tenantId: parsed.data.tenantId?.trim() || null, takenAt }
}

/** True when `dir` looks like a snapshot folder (used by `run` to give a better error for a wrong path). */
export function looksLikeSnapshot(dir: string): boolean {
  return Object.values(SOURCES).some(
    (s) => existsSync(join(dir, `${s.collection}.json`)) || existsSync(join(dir, `${s.collection}.jsonl`)),
  )
}
