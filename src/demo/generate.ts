/** @module Deterministic demo tenant: realistic Intune, Entra, Autopilot, Defender and Teams exports for any size and seed. */
import { once } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { rngFor } from './prng.js'
import {
  type DemoAutopilotIdentity,
  type DemoEntraDevice,
  type DemoMachine,
  type DemoManagedDevice,
  type DemoRecords,
  type DemoTeamworkDevice,
  emptyRecords,
  isoSeconds,
  ODATA_CONTEXT,
  SOURCE_FILES,
  type SourceFile,
} from './records.js'
import {
  type BuildContext,
  DEMO_SITUATIONS,
  type DemoSituation,
  NameCounter,
  SITUATION_BUILDERS,
  SITUATION_RATES,
} from './situations.js'

export type {
  DemoAutopilotIdentity,
  DemoEntraDevice,
  DemoMachine,
  DemoManagedDevice,
  DemoRecords,
  DemoTeamworkDevice,
} from './records.js'
export type { DemoSituation } from './situations.js'
export { DEMO_SITUATIONS, SITUATION_RATES } from './situations.js'

/** The instant the demo snapshot is "taken" unless the caller says otherwise; all timestamps lie before it. */
export const DEMO_AS_OF = '2026-11-01T00:00:00Z'
export const MAX_DEMO_DEVICES = 1_000_000

export interface DemoOptions {
  /** Number of physical devices (1 to 1,000,000); re-imaged devices and duplicates add records, not devices. */
  devices: number
  seed: number
  /** ISO 8601 instant with a zone; defaults to DEMO_AS_OF. */
  asOf?: string
}

export interface DemoMeta {
  tenantId: string
  takenAt: string
}

export interface DemoTenant {
  meta: DemoMeta
  managedDevices: DemoManagedDevice[]
  devices: DemoEntraDevice[]
  windowsAutopilotDeviceIdentities: DemoAutopilotIdentity[]
  machines: DemoMachine[]
  teamworkDevices: DemoTeamworkDevice[]
  /** How many physical devices landed in each situation (never stored in the records themselves). */
  situations: Record<DemoSituation, number>
}

/** One physical device and every record it left in the five exports. */
export interface DemoDevice {
  index: number
  situation: DemoSituation
  records: DemoRecords
}

/** Stream namespaces under one seed: devices use 0, users 1 (catalog.ts). */
const TENANT_STREAM = 2
/** Users per physical device: some people have a laptop and a phone. */
const USERS_PER_DEVICE = 0.8
const MIN_USER_POOL = 20
/** Records are buffered to about this many characters before one write, so large tenants stream efficiently. */
const WRITE_CHUNK_CHARS = 1 << 18
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

interface Resolved {
  devices: number
  seed: number
  asOfMs: number
}

/** @throws Error naming the bad option and what is accepted. */
function resolve(opts: DemoOptions): Resolved {
  const { devices, seed } = opts
  if (!Number.isInteger(devices) || devices < 1 || devices > MAX_DEMO_DEVICES) {
    throw new Error(`demo: devices must be a whole number from 1 to ${MAX_DEMO_DEVICES}, got ${devices}`)
  }
  if (!Number.isSafeInteger(seed)) throw new Error(`demo: seed must be a whole number, got ${seed}`)
  const asOf = opts.asOf ?? DEMO_AS_OF
  const parsed = ISO_WITH_ZONE.test(asOf) ? Date.parse(asOf) : Number.NaN
  if (!Number.isFinite(parsed)) {
    throw new Error(`demo: asOf "${asOf}" is not an ISO 8601 date-time with a zone; use e.g. ${DEMO_AS_OF}`)
  }
  // Whole seconds, so every generated timestamp (printed without a fraction) is <= takenAt.
  const SECOND_MS = 1000
  return { devices, seed, asOfMs: Math.floor(parsed / SECOND_MS) * SECOND_MS }
}

/**
 * Which situation each of the first devices must have, so every situation occurs once the tenant has at least
 * as many devices as there are situations. The slots are spread evenly so the demo does not open with oddities.
 */
function guaranteedSlots(devices: number): Map<number, DemoSituation> {
  const slots = new Map<number, DemoSituation>()
  const count = DEMO_SITUATIONS.length
  DEMO_SITUATIONS.forEach((situation, j) => {
    if (devices < count) {
      if (j < devices) slots.set(j, situation)
    } else slots.set(Math.floor((j * devices) / count), situation)
  })
  return slots
}

const DRAW_TABLE: readonly (readonly [DemoSituation, number])[] = (() => {
  const rated = Object.entries(SITUATION_RATES) as [DemoSituation, number][]
  const rest = 1 - rated.reduce((sum, [, rate]) => sum + rate, 0)
  return [['healthy', rest], ...rated]
})()

/** The tenant id and snapshot time written to meta.json. */
export function demoMeta(opts: DemoOptions): DemoMeta {
  const { seed, asOfMs } = resolve(opts)
  return { tenantId: rngFor(seed, 0, TENANT_STREAM).guid(), takenAt: isoSeconds(asOfMs) }
}

/**
 * Yields the physical devices one at a time with their records, so callers never need the whole tenant in memory.
 * @throws Error for out-of-range options (see DemoOptions).
 */
export function* iterateDemoDevices(opts: DemoOptions): Generator<DemoDevice> {
  const { devices, seed, asOfMs } = resolve(opts)
  const slots = guaranteedSlots(devices)
  const names = new NameCounter()
  const userPoolSize = Math.max(MIN_USER_POOL, Math.round(devices * USERS_PER_DEVICE))
  for (let index = 0; index < devices; index++) {
    const rng = rngFor(seed, index)
    const situation = slots.get(index) ?? rng.weighted(DRAW_TABLE)
    const ctx: BuildContext = { rng, seed, index, asOfMs, names, userPoolSize, out: emptyRecords() }
    SITUATION_BUILDERS[situation](ctx)
    yield { index, situation, records: ctx.out }
  }
}

function zeroCounts(): Record<DemoSituation, number> {
  return Object.fromEntries(DEMO_SITUATIONS.map((s) => [s, 0])) as Record<DemoSituation, number>
}

/** The whole tenant in memory (fine up to a few hundred thousand devices; use writeDemoSnapshot beyond). */
export function generateDemoTenant(opts: DemoOptions): DemoTenant {
  const tenant: DemoTenant = { meta: demoMeta(opts), ...emptyRecords(), situations: zeroCounts() }
  for (const device of iterateDemoDevices(opts)) {
    tenant.situations[device.situation]++
    for (const name of SOURCE_FILES) {
      const target: object[] = tenant[name]
      for (const record of device.records[name]) target.push(record)
    }
  }
  return tenant
}

/** Writes one export file record by record, in chunks, waiting for the stream to drain. */
class ExportWriter {
  count = 0
  private parts: string[] = []
  private chars = 0
  private error: Error | null = null

  constructor(
    readonly path: string,
    private readonly stream: WriteStream,
    private readonly jsonl: boolean,
  ) {
    // Without a listener an I/O error would crash the process; keep it and raise it from the next call.
    stream.on('error', (err) => {
      this.error = err
    })
  }

  static open(dir: string, name: SourceFile, jsonl: boolean): ExportWriter {
    const path = join(dir, `${name}.${jsonl ? 'jsonl' : 'json'}`)
    const writer = new ExportWriter(path, createWriteStream(path, { encoding: 'utf8' }), jsonl)
    if (!jsonl) writer.push(`{\n  "@odata.context": ${JSON.stringify(ODATA_CONTEXT[name])},\n  "value": [`)
    return writer
  }

  /** Queues one record; returns a promise only when a chunk went out and the caller should wait. */
  add(record: object): Promise<void> | undefined {
    const line = JSON.stringify(record)
    if (this.jsonl) this.push(`${line}\n`)
    else this.push(`${this.count === 0 ? '' : ','}\n    ${line}`)
    this.count++
    return this.chars >= WRITE_CHUNK_CHARS ? this.flush() : undefined
  }

  async close(): Promise<void> {
    if (!this.jsonl) this.push(this.count === 0 ? ']\n}\n' : '\n  ]\n}\n')
    await this.flush()
    this.stream.end()
    await finished(this.stream)
  }

  destroy(): void {
    this.stream.destroy()
  }

  private push(text: string): void {
    this.parts.push(text)
    this.chars += text.length
  }

  private async flush(): Promise<void> {
    if (this.error) throw this.error
    if (this.parts.length === 0) return
    const chunk = this.parts.join('')
    this.parts = []
    this.chars = 0
    if (!this.stream.write(chunk)) await once(this.stream, 'drain')
  }
}

/**
 * Writes meta.json and the five exports (`{ "@odata.context", "value": [...] }`, one record per line, or JSON Lines
 * with `jsonl`) into `dir`, generating and writing one device at a time.
 * @returns the paths written and the number of records per export.
 * @throws Error for bad options or when a file cannot be written (the message names the path).
 */
export async function writeDemoSnapshot(
  dir: string,
  opts: DemoOptions & { jsonl?: boolean },
): Promise<{ files: string[]; counts: Record<string, number> }> {
  const jsonl = opts.jsonl ?? false
  const meta = demoMeta(opts)
  await mkdir(dir, { recursive: true })
  const metaPath = join(dir, 'meta.json')
  await writeFile(metaPath, `${JSON.stringify(meta, null, 2)}\n`)
  const writers = SOURCE_FILES.map((name) => ExportWriter.open(dir, name, jsonl))
  try {
    for (const device of iterateDemoDevices(opts)) {
      for (let i = 0; i < SOURCE_FILES.length; i++) {
        const writer = writers[i]!
        for (const record of device.records[SOURCE_FILES[i]!]) {
          const pending = writer.add(record)
          if (pending) await pending
        }
      }
    }
    for (const writer of writers) await writer.close()
  } catch (err) {
    for (const writer of writers) writer.destroy()
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(`demo: could not write the snapshot to "${dir}": ${reason}`, { cause: err })
  }
  const counts: Record<string, number> = {}
  SOURCE_FILES.forEach((name, i) => {
    counts[name] = writers[i]!.count
  })
  return { files: [metaPath, ...writers.map((w) => w.path)], counts }
}
