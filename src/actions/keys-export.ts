/**
 * @module BitLocker recovery key export: before an Entra object is deleted its keys are saved to a file the admin
 * keeps, because deleting the object deletes them (reference §2.5). Keys are listed per Entra deviceId, each value
 * read with `$select=key` (audited by Microsoft), written atomically with mode 0600, and only then recorded in
 * offboard's audit log — one entry per device, never a key value.
 */
import { randomBytes } from 'node:crypto'
import { link, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { appendAudit } from '../agent/audit.js'
import { OffboardError, SourceError } from '../lib/errors.js'
import type { ApiClient } from '../lib/graph-client.js'
import type { Store } from '../store/store.js'
import { VERSION } from '../version.js'
import { itemErrorText, sendBatch } from './graph-batch.js'

export const KEYS_EXPORT_ACTION = 'keys.export'
/** Reference §2.5: the key value needs Read.All; ReadBasic.All lists keys without it. */
export const KEY_READ_PERMISSION = 'BitlockerKey.Read.All'
const KEYS_PATH = '/informationProtection/bitlocker/recoveryKeys'
/**
 * The list and get docs mark User-Agent as required and `ocp-client-name`/`ocp-client-version` as optional (older
 * versions required them, reference §2.5); sending all three costs nothing.
 */
const CLIENT_HEADERS = {
  'user-agent': `offboard/${VERSION}`,
  'ocp-client-name': 'offboard',
  'ocp-client-version': VERSION,
}

export const ExportedKey = z.object({
  id: z.string(),
  volumeType: z.string().nullable(),
  createdDateTime: z.string().nullable(),
  key: z.string().min(1),
})

export const ExportedDevice = z.object({
  objectId: z.string(),
  deviceId: z.string(),
  displayName: z.string().nullable(),
  keys: z.array(ExportedKey),
})
export type ExportedDevice = z.infer<typeof ExportedDevice>

/** The file `offboard keys export` writes: what it is, for which tenant, and every key per device. */
export const KeysExportFile = z.object({
  tenantId: z.string(),
  exportedAt: z.string(),
  devices: z.array(ExportedDevice),
})
export type KeysExportFile = z.infer<typeof KeysExportFile>

/** An Entra object whose keys are wanted. */
export interface ExportTarget {
  objectId: string
  /** The name offboard knows it by, for messages (Graph's current name wins when it answers). */
  displayName: string | null
}

/** An object that has nothing to export: gone from Entra, or with no deviceId to look keys up by. */
export interface SkippedTarget {
  objectId: string
  displayName: string | null
  reason: string
}

export interface KeysExportResult {
  file: string
  tenantId: string
  exportedAt: string
  devices: { objectId: string; deviceId: string; displayName: string | null; keys: number }[]
  skipped: SkippedTarget[]
  keys: number
}

/** The file exists and --force was not given: an earlier export must never be overwritten by accident. */
export class ExportFileExists extends OffboardError {
  constructor(file: string) {
    super(
      `${file} already exists; offboard does not overwrite an export of recovery keys.`,
      'Choose another file with -o, or pass --force to replace it.',
    )
  }
}

/** A 403 on the key API, with the permission and the delegated fallback (reference §2.5). */
function keyPermissionError(err: SourceError, what: string): SourceError {
  return new SourceError(
    `${err.message} (while ${what})`,
    'entra',
    err.endpoint,
    403,
    `Grant the application permission ${KEY_READ_PERMISSION} (admin consent): BitlockerKey.ReadBasic.All lists keys but not their values. ` +
      'If the tenant refuses app-only access to recovery keys, sign in as a user with Cloud Device Administrator, Helpdesk Administrator, ' +
      'Intune Administrator, Security Administrator or Global Reader (OFFBOARD_AUTH=deviceCode).',
    KEY_READ_PERMISSION,
  )
}

async function withKeyPermission<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof SourceError && err.status === 403) throw keyPermissionError(err, what)
    throw err
  }
}

const RawKey = z.object({
  id: z.string(),
  // The resource lists names (operatingSystemVolume…); the docs' examples answer "1": keep whichever comes.
  volumeType: z.union([z.string(), z.number().transform(String)]).nullish(),
  createdDateTime: z.string().nullish(),
  key: z.string().nullish(),
})

function parseKey(body: unknown, what: string): z.infer<typeof RawKey> {
  const parsed = RawKey.safeParse(body)
  if (parsed.success) return parsed.data
  throw new SourceError(
    `Graph answered ${what} with an unexpected shape (${parsed.error.issues[0]?.message ?? 'invalid'}); no file was written.`,
    'entra',
    `GET ${KEYS_PATH}`,
    null,
    'Run the export again; if it persists, report it with offboard logs.',
  )
}

/** Reads each object's current deviceId (the key API filters by it, not by the object id). */
export async function resolveTargets(
  graph: ApiClient,
  targets: readonly ExportTarget[],
): Promise<{ found: Omit<ExportedDevice, 'keys'>[]; skipped: SkippedTarget[] }> {
  const results = await sendBatch(
    graph,
    targets.map((t, i) => ({
      id: String(i + 1),
      method: 'GET',
      url: `/devices/${encodeURIComponent(t.objectId)}?$select=id,deviceId,displayName`,
    })),
    { permission: 'Device.Read.All' },
  )
  const found: Omit<ExportedDevice, 'keys'>[] = []
  const skipped: SkippedTarget[] = []
  targets.forEach((t, i) => {
    const r = results.get(String(i + 1)) ?? { status: 0, body: null }
    const body = (r.body ?? {}) as { deviceId?: unknown; displayName?: unknown }
    if (r.status === 404) {
      skipped.push({ ...t, reason: 'the object is gone from Entra (its keys went with it)' })
    } else if (r.status !== 200) {
      throw new SourceError(
        `reading Entra device "${t.displayName ?? t.objectId}" (${t.objectId}) failed: HTTP ${r.status}${itemErrorText(r.body)}; no key was exported.`,
        'entra',
        `GET /devices/${t.objectId}`,
        r.status || null,
        r.status === 403
          ? 'Grant the application permission Device.Read.All (admin consent).'
          : 'Run the export again.',
      )
    } else if (typeof body.deviceId !== 'string' || body.deviceId === '') {
      skipped.push({ ...t, reason: 'the object has no deviceId, so Entra holds no recovery keys for it' })
    } else {
      found.push({
        objectId: t.objectId,
        deviceId: body.deviceId,
        displayName: typeof body.displayName === 'string' ? body.displayName : t.displayName,
      })
    }
  })
  return { found, skipped }
}

/** Lists one device's keys and reads each value; the value is never logged. */
export async function fetchDeviceKeys(
  graph: ApiClient,
  device: Omit<ExportedDevice, 'keys'>,
): Promise<ExportedDevice> {
  const name = `"${device.displayName ?? device.objectId}"`
  const filter = encodeURIComponent(`deviceId eq '${device.deviceId.replaceAll("'", "''")}'`)
  const opts = { source: 'entra', permission: KEY_READ_PERMISSION, headers: CLIENT_HEADERS }
  const listed: z.infer<typeof RawKey>[] = []
  await withKeyPermission(`listing the recovery keys of ${name}`, async () => {
    // "This method does not support $top" (bitlocker-list-recoverykeys): the service pages with nextLinks.
    for await (const page of graph.pages<unknown>(`${KEYS_PATH}?$filter=${filter}`, { ...opts, top: 0 }))
      for (const item of page.items) listed.push(parseKey(item, `the recovery key list of ${name}`))
  })
  const keys: z.infer<typeof ExportedKey>[] = []
  for (const k of listed) {
    const res = await withKeyPermission(`reading recovery key ${k.id} of ${name}`, () =>
      graph.request<unknown>('GET', `${KEYS_PATH}/${encodeURIComponent(k.id)}?$select=key`, opts),
    )
    const full = parseKey(res.body, `recovery key ${k.id} of ${name}`)
    if (!full.key)
      throw new SourceError(
        `Graph returned recovery key ${k.id} of ${name} without its value; no file was written.`,
        'entra',
        `GET ${KEYS_PATH}/${k.id}`,
        res.status,
        `The key value needs ${KEY_READ_PERMISSION}; BitlockerKey.ReadBasic.All does not return it.`,
        KEY_READ_PERMISSION,
      )
    keys.push({
      id: k.id,
      volumeType: k.volumeType ?? full.volumeType ?? null,
      createdDateTime: k.createdDateTime ?? full.createdDateTime ?? null,
      key: full.key,
    })
  }
  return { ...device, keys }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * Writes via a 0600 temporary sibling, flushed to disk, then moves it into place: a crash leaves either no file or
 * the whole file. Without `force` the move is a hard link, which fails if the file appeared meanwhile.
 */
export async function writeSecretFile(path: string, text: string, force: boolean): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(text, 'utf8')
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    if (force) await rename(tmp, path)
    else {
      try {
        await link(tmp, path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ExportFileExists(path)
        throw err
      }
    }
  } finally {
    await rm(tmp, { force: true })
  }
}

export interface ExportKeysOptions {
  tenantId: string
  actor: string
  graph: ApiClient
  targets: readonly ExportTarget[]
  file: string
  force?: boolean
  now?: () => Date
}

/**
 * Exports the recovery keys of the targets to `file` and records one audit entry per exported device.
 * @throws ExportFileExists before any key is read when the file exists without `force`; SourceError on a refused
 * or failed call (no file is written and nothing is recorded).
 */
export async function exportKeys(store: Store, opts: ExportKeysOptions): Promise<KeysExportResult> {
  const file = resolve(opts.file)
  // Checked first so that no key value is read (an audited event at Microsoft) for a file that cannot be written.
  if (!opts.force && (await exists(file))) throw new ExportFileExists(file)
  const { found, skipped } = await resolveTargets(opts.graph, opts.targets)
  const devices: ExportedDevice[] = []
  for (const d of found) devices.push(await fetchDeviceKeys(opts.graph, d))
  const exportedAt = (opts.now ?? (() => new Date()))()
  const doc = KeysExportFile.parse({ tenantId: opts.tenantId, exportedAt: exportedAt.toISOString(), devices })
  await writeSecretFile(file, `${JSON.stringify(doc, null, 2)}\n`, opts.force === true)
  // Only now is the export real: a device with zero keys is recorded too (deleting it loses nothing).
  for (const d of devices)
    await appendAudit(store.db, exportedAt, {
      actor: opts.actor,
      action: KEYS_EXPORT_ACTION,
      tenantId: opts.tenantId,
      target: d.objectId,
      after: { deviceId: d.deviceId, keys: d.keys.length, file },
      result: 'ok',
    })
  return {
    file,
    tenantId: opts.tenantId,
    exportedAt: doc.exportedAt,
    devices: devices.map((d) => ({
      objectId: d.objectId,
      deviceId: d.deviceId,
      displayName: d.displayName,
      keys: d.keys.length,
    })),
    skipped,
    keys: devices.reduce((n, d) => n + d.keys.length, 0),
  }
}

/** When `offboard keys export` last saved this Entra object's keys to a file (its latest ok audit entry), or null. */
export async function keysExportedAt(store: Store, tenantId: string, objectId: string): Promise<Date | null> {
  const row = await store.db
    .selectFrom('audit_log')
    .select('at')
    .where('action', '=', KEYS_EXPORT_ACTION)
    .where('tenant_id', '=', tenantId)
    .where('target', '=', objectId)
    .where('result', '=', 'ok')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row ? new Date(row.at) : null
}
