/**
 * @module Reads a live tenant through the sources' definitions and the one HTTP client: every page, validated by
 * the same code as a snapshot. A source that fails is reported as `error` (its rules become unknown); the others
 * still count.
 */
import type { AnyRecord, SourceName } from '../domain/device.js'
import { InputError, OffboardError, SourceError } from '../lib/errors.js'
import type { ApiClient } from '../lib/graph-client.js'
import type { Logger } from '../lib/log.js'
import { RecordValidator } from '../snapshot/read-collection.js'
import type { SourceLoad, TenantData } from '../snapshot/read-snapshot.js'
import { SOURCES } from './index.js'
import { type SourceDefinition, selectedFields } from './source.js'
import { TEAMS_ENDPOINT, TEAMS_READ_PERMISSION, TeamworkDevice, teamsSerialKeys } from './teams/index.js'

export interface LiveClients {
  graph: ApiClient
  /** Graph beta, for the Teams devices inventory (optional). */
  graphBeta?: ApiClient
  defender: ApiClient
}

export interface LiveProgressEvent {
  source: SourceName | 'teams'
  pages: number
  records: number
  /** Total announced by the API, when known. */
  total: number | null
  done: boolean
  error?: string
}

export interface LiveReadOptions {
  tenantId: string
  disabledSources?: readonly string[]
  onProgress?: (e: LiveProgressEvent) => void
  log?: Logger
  now?: () => number
  /** Stops the reading: pending requests are cancelled and the signal's reason is thrown, not kept as a source's error. */
  signal?: AbortSignal
}

type AnyDefinition = SourceDefinition<Record<string, unknown>, AnyRecord>

/** Builds the list URL of a source: `$select` of the fields read and the largest page. */
export function listPath(def: AnyDefinition): string {
  const params = new URLSearchParams()
  const select = selectedFields(def)
  if (select) params.set('$select', select.join(','))
  params.set('$top', String(def.pageSize))
  // URLSearchParams encodes "$" and ","; Graph accepts both forms, but readable URLs help in logs.
  return `${def.endpoint.path}?${params.toString().replace(/%24/g, '$').replace(/%2C/g, ',')}`
}

/** Raw pages of one source, as the API returns them (for `offboard snapshot`). */
export async function* fetchRawPages(clients: LiveClients, def: AnyDefinition, signal?: AbortSignal) {
  const client = def.endpoint.api === 'defender' ? clients.defender : clients.graph
  yield* client.pages<unknown>(listPath(def), {
    source: def.name,
    permission: def.readPermission,
    top: def.pageSize,
    skipPaging: def.endpoint.api === 'defender',
    ...(signal ? { signal } : {}),
  })
}

/** Reads and validates one source; never throws for the source's own failures. */
export async function readLiveSource<R extends AnyRecord>(
  clients: LiveClients,
  def: AnyDefinition,
  opts: LiveReadOptions,
): Promise<SourceLoad<R>> {
  const origin = `${def.endpoint.api === 'defender' ? 'Defender API' : 'Graph'} ${def.endpoint.path}`
  if (opts.disabledSources?.includes(def.name)) return { status: 'missing', records: [], origin: null }
  const validator = new RecordValidator<{ id: string }, R>(
    def.schema as never,
    `${def.title} (${def.endpoint.path})`,
    `The ${def.title} API returned data offboard cannot read; please report it with the record id.`,
    (raw) => def.toRecord(raw as Record<string, unknown>) as R,
  )
  let pages = 0
  let index = 0
  opts.onProgress?.({ source: def.name, pages: 0, records: 0, total: null, done: false })
  try {
    for await (const page of fetchRawPages(clients, def, opts.signal)) {
      pages++
      for (const item of page.items) validator.accept(item, ++index)
      opts.onProgress?.({ source: def.name, pages, records: index, total: page.total, done: false })
    }
    const records = validator.finish()
    opts.onProgress?.({ source: def.name, pages, records: records.length, total: records.length, done: true })
    return { status: 'ok', records, origin }
  } catch (err) {
    // Stopped from outside (the run was refused): the whole read ends, with the reason it was stopped for.
    if (opts.signal?.aborted) throw opts.signal.reason
    if (!(err instanceof OffboardError)) throw err
    // Without a token nothing can be read: one clear failure instead of the same one per source.
    if (err instanceof SourceError && err.source === 'sign-in') throw err
    const message =
      err instanceof InputError ? err.message : `${err.message}${err.hint ? ` ${err.hint}` : ''}`
    opts.log?.warn({ event: 'readLive.source.failed', source: def.name, pages, records: index, message })
    opts.onProgress?.({ source: def.name, pages, records: index, total: null, done: true, error: message })
    // Partial pages are dropped: a half-read source must not make the unread devices look absent.
    return { status: 'error', records: [], origin, error: message }
  }
}

/** Reads the whole tenant. */
export async function readLive(clients: LiveClients, opts: LiveReadOptions): Promise<TenantData> {
  const takenAt = (opts.now ?? Date.now)()
  opts.signal?.throwIfAborted()
  // When one service's read throws (a failed sign-in, a bug), the others stop too, rather than reading on unseen.
  const stop = new AbortController()
  const each = { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal }
  const stopOthers = <T>(read: Promise<T>): Promise<T> =>
    read.catch((err: unknown) => {
      stop.abort(err)
      throw err
    })
  // Three services, read side by side: Intune (managed devices, then Autopilot identities: both count against the
  // Intune service's limits, so one after the other), the Entra directory, and Defender. Each has limits of its own,
  // which one request at a time stays far below; against a real tenant, where every page takes a while to come, the
  // read takes as long as its longest service instead of all of them in a row.
  const intuneService = (async () => {
    const intune = await readLiveSource(clients, SOURCES.intune as unknown as AnyDefinition, each)
    const autopilot = await readLiveSource(clients, SOURCES.autopilot as unknown as AnyDefinition, each)
    return { intune, autopilot }
  })()
  // Promise.all handles every rejection: when one read throws (a failed sign-in), the others' are not left unhandled.
  const [{ intune, autopilot }, entra, defender] = await Promise.all([
    stopOthers(intuneService),
    stopOthers(readLiveSource(clients, SOURCES.entra as unknown as AnyDefinition, each)),
    stopOthers(readLiveSource(clients, SOURCES.defender as unknown as AnyDefinition, each)),
  ])
  return {
    tenantId: opts.tenantId,
    takenAt,
    intune: intune as TenantData['intune'],
    entra: entra as TenantData['entra'],
    autopilot: autopilot as TenantData['autopilot'],
    defender: defender as TenantData['defender'],
    teamsSerials: await readTeamsSerials(clients, opts),
  }
}

/** The Teams inventory is optional: without it (no permission, no beta access) Teams devices are recognised by maker. */
async function readTeamsSerials(clients: LiveClients, opts: LiveReadOptions): Promise<Set<string> | null> {
  if (!clients.graphBeta) return null
  const validator = new RecordValidator(TeamworkDevice, 'Teams devices (beta /teamwork/devices)', '')
  let index = 0
  try {
    // The Teams inventory documents no $top: follow its nextLinks.
    for await (const page of clients.graphBeta.pages<unknown>(TEAMS_ENDPOINT.path, {
      source: 'teams',
      permission: TEAMS_READ_PERMISSION,
      top: 0,
      ...(opts.signal ? { signal: opts.signal } : {}),
    })) {
      for (const item of page.items) validator.accept(item, ++index)
    }
    const serials = teamsSerialKeys(validator.finish())
    opts.onProgress?.({ source: 'teams', pages: 0, records: index, total: index, done: true })
    return serials
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason
    if (!(err instanceof OffboardError)) throw err
    opts.log?.info({ event: 'readLive.teams.unavailable', message: err.message })
    opts.onProgress?.({ source: 'teams', pages: 0, records: 0, total: null, done: true, error: err.message })
    return null
  }
}
