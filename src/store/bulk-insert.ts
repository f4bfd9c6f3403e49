/** @module Inserting many rows at once: COPY on PGlite, batched multi-row INSERTs on PostgreSQL. */
import type { Insertable, Transaction } from 'kysely'
import { OffboardError } from '../lib/errors.js'
import type { Database } from './schema.js'
import type { Store } from './store.js'

/** Rows per INSERT on PostgreSQL: ~15 parameters each stays far below its 65,535-parameter limit. */
const INSERT_BATCH = 500
/**
 * COPY data goes to PGlite in statements of about this many bytes. One statement for everything held the whole
 * encoded set in memory twice (600 MB at a million devices); batches of 16 MiB cost no more CPU at 100k devices.
 */
const COPY_BATCH_BYTES = 16 << 20

/** What a column value may be in a row given to {@link insertRows}; a JSON column takes its text. */
export type CopyValue = string | number | boolean | Date | readonly string[] | null | undefined

/**
 * Inserts `rows` into `table` within the transaction `tx` opened on `store`. Every row must have the same keys; the
 * first row's name the columns. Rows are taken one at a time, so a generator can build them lazily.
 *
 * On PGlite this is `COPY … FROM` a file in PGlite's memory (copy-file.ts), in batches of {@link COPY_BATCH_BYTES},
 * each encoded while the one before is stored.
 * Measured with a 100k-device report (20,487 suggestions of ~3 KiB JSON) on PGlite 0.5: batched INSERTs spent as long turning
 * 300,000 parameters into protocol messages, and PGlite parsing them back, as the database spent storing the rows.
 * On PostgreSQL, batched INSERTs: they are what node-postgres can send (COPY FROM STDIN needs a stream it lacks),
 * and a server is not the bottleneck there.
 */
export async function insertRows<T extends keyof Database & string>(
  store: Store,
  tx: Transaction<Database>,
  table: T,
  rows: Iterable<Insertable<Database[T]>>,
  opts: {
    copyBatchBytes?: number
    /**
     * `table` was truncated (or created) in `tx`: on PGlite the rows are written frozen, already visible to every
     * later transaction. Otherwise the first read after commit sets hint bits on every page, and with data
     * checksums on each such page is written again, in full, to the WAL (72 MB at 100k devices). Ignored on
     * PostgreSQL.
     */
    truncated?: boolean
    /**
     * The caller guarantees every row's foreign keys (it read the rows they point to, locked, in `tx`): on PGlite
     * the COPY then skips their per-row checks. Each check is a query of its own, run by PGlite's one process:
     * a quarter of the COPY's time for a run's suggestions (1.3 → 1.0 s at 100k devices, measured). Ignored on
     * PostgreSQL.
     */
    referencesChecked?: boolean
  } = {},
): Promise<void> {
  const { copyIn } = store
  if (copyIn) {
    // Two buffers: rows are encoded into one while the other's COPY runs (on PGlite's own thread, see
    // pglite-thread.ts), and a buffer is reused only after its COPY has finished. The second is made only when a
    // second batch is.
    const bytes = opts.copyBatchBytes ?? COPY_BATCH_BYTES
    const first = new CopyEncoder(bytes)
    let second: CopyEncoder | undefined
    let encoder = first
    let stored = 0
    let sent = 0
    let copying: Promise<number> | null = null
    const finishCopy = async () => {
      if (copying) stored += await copying
      copying = null
    }
    const send = async () => {
      // One COPY at a time: the one before must be done before this one is sent, and its buffer is then free.
      await finishCopy()
      sent += encoder.rows
      copying = copyIn(table, encoder.columns!, encoder.take(), {
        freeze: opts.truncated === true,
        skipForeignKeyChecks: opts.referencesChecked === true,
      })
      // Awaited at the next send or at the end; until then a failure must not count as unhandled.
      copying.catch(() => {})
      if (encoder === first) encoder = second ??= new CopyEncoder(bytes)
      else encoder = first
    }
    try {
      for (const row of rows) {
        // Kysely's row types are objects of column values; CopyValue lists the kinds this store's tables use.
        const line = encoder.line(row as Record<string, CopyValue>)
        if (!encoder.fits(line)) await send()
        encoder.push(line)
      }
      if (encoder.rows > 0) await send()
    } catch (err) {
      // No COPY is left running when this throws; the row's error is the one to report.
      await (copying as Promise<number> | null)?.catch(() => {})
      throw err
    }
    await finishCopy()
    if (stored !== sent)
      throw new OffboardError(
        `COPY into ${table} stored ${stored} of ${sent} rows; the transaction is rolled back.`,
        'This PGlite version reads COPY data differently: report it with the PGlite version in use.',
      )
    return
  }
  let batch: Insertable<Database[T]>[] = []
  const flush = async () => {
    // Kysely cannot relate a generic table name to its row type; the rows were checked against it by the caller.
    if (batch.length)
      await tx
        .insertInto(table)
        .values(batch as never)
        .execute()
    batch = []
  }
  for (const row of rows) {
    batch.push(row)
    if (batch.length === INSERT_BATCH) await flush()
  }
  await flush()
}

/**
 * Rows in COPY's text format (tab-separated fields, `\N` for null, one row per line), UTF-8 encoded into one reused
 * buffer. Written straight to a buffer rather than joined into one string: at 60 MiB of JSON, the string copies
 * and the garbage collection they caused cost as much as the encoding.
 *
 * The buffer is allocated once and handed over as a view of its used part, never copied: a fresh exactly-sized
 * copy per statement had cost more than the copying, since each was 16 MiB of memory outside the heap, and V8
 * answers every 64 MiB of that with a full collection, which at a million devices marked the whole report (1 GB)
 * again every four statements: 7 s of a 32 s recording.
 */
export class CopyEncoder {
  /** The columns, in order: the first row's keys. */
  columns: readonly string[] | undefined
  /** Rows in the buffer, not yet taken. */
  rows = 0
  /**
   * Its own memory (not Node's shared pool), so that a view of it starts at 0 and nothing else writes there; shared,
   * so that PGlite's thread reads these very bytes rather than a copy posted to it (pglite-thread.ts).
   */
  private buffer: Buffer<SharedArrayBuffer>
  private used = 0

  constructor(private readonly bytes: number) {
    this.buffer = sharedBuffer(bytes)
  }

  /** A row as one line of COPY text, newline included. */
  line(row: Record<string, CopyValue>): string {
    this.columns ??= Object.keys(row)
    const columns = this.columns
    let line = ''
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!
      if (!(column in row))
        throw new TypeError(`COPY row lacks the column ${column}: every row needs the first row's keys.`)
      if (i > 0) line += '\t'
      line += copyField(row[column], column)
    }
    return `${line}\n`
  }

  /** Whether `line` surely fits in what is left of the buffer (always, when the buffer is empty). */
  fits(line: string): boolean {
    return this.rows === 0 || this.used + maxBytes(line) <= this.bytes
  }

  push(line: string): void {
    if (this.used + maxBytes(line) > this.buffer.length) {
      // A line longer than the whole buffer, alone in it: grow the buffer for it.
      const bigger = sharedBuffer(this.used + maxBytes(line))
      this.buffer.copy(bigger, 0, 0, this.used)
      this.buffer = bigger
    }
    this.used += this.buffer.write(line, this.used)
    this.rows++
  }

  /**
   * The rows so far, as a view of the buffer itself: valid until the next {@link push}, which reuses it, so the
   * caller must be done with them (the COPY finished) before pushing again.
   */
  take(): Uint8Array<SharedArrayBuffer> {
    const rows = new Uint8Array(this.buffer.buffer, 0, this.used)
    this.used = 0
    this.rows = 0
    return rows
  }
}

function sharedBuffer(bytes: number): Buffer<SharedArrayBuffer> {
  return Buffer.from(new SharedArrayBuffer(bytes))
}

/** A UTF-16 code unit takes at most 3 bytes in UTF-8: with that room, `Buffer.write` never truncates. */
function maxBytes(text: string): number {
  return text.length * 3
}

function copyField(value: CopyValue, column: string): string {
  if (value === null || value === undefined) return '\\N'
  if (typeof value === 'string') return escapeCopy(value)
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`column ${column}: cannot store the number ${value}.`)
    return String(value)
  }
  // ISO 8601 with its Z: read as the same instant whatever the session's time zone.
  if (value instanceof Date) return value.toISOString()
  return escapeCopy(arrayLiteral(value))
}

/**
 * In COPY's text format a backslash starts an escape, and tab and newline end a field or a row. `includes` and
 * `replaceAll` per character: measured 4× faster than one regular expression over 60 MiB of JSON, which holds
 * backslashes (before quotes) but never a raw tab or newline.
 */
function escapeCopy(text: string): string {
  let out = text
  if (out.includes('\\')) out = out.replaceAll('\\', '\\\\')
  if (out.includes('\t')) out = out.replaceAll('\t', '\\t')
  if (out.includes('\n')) out = out.replaceAll('\n', '\\n')
  if (out.includes('\r')) out = out.replaceAll('\r', '\\r')
  return out
}

/** A text[] literal with every element quoted, so commas, braces, spaces and `NULL` stay data. */
function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/["\\]/g, '\\$&')}"`).join(',')}}`
}
