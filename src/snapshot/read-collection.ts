/** @module Reads one exported collection (`{ "value": [...] }`, a bare array, or JSONL) and validates every record. */
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { z } from 'zod'
import { InputError, type InputProblem } from '../lib/errors.js'
import { directReader, UNDECIDED, type Undecided } from '../sources/schema-helpers.js'

/** Problems listed in one error message; the rest are counted. */
const MAX_LISTED_PROBLEMS = 5

export interface CollectionFile {
  path: string
  /** File name as shown in messages (`devices.json`). */
  name: string
  format: 'json' | 'jsonl'
}

/** Collects validation problems across records, keeping the first few in full. */
class ProblemList {
  readonly listed: InputProblem[] = []
  total = 0
  add(p: InputProblem): void {
    this.total++
    if (this.listed.length < MAX_LISTED_PROBLEMS) this.listed.push(p)
  }
}

/**
 * Validates records one by one (from a file or from API pages) and collects problems: the first few in full,
 * the rest counted. Duplicate ids are a problem. Shared by the snapshot reader and the live sources.
 */
export class RecordValidator<T extends { id: string }, R = T> {
  readonly records: R[] = []
  private readonly problems = new ProblemList()
  private readonly seen = new Map<string, number>()
  /** zod's output without zod's per-field work, for the records it can read; zod decides (and explains) the rest. */
  private readonly read: ((item: unknown) => T | Undecided) | null

  /**
   * @param map turns each valid record into what is kept (a source's domain record), as it is accepted: holding
   * every validated raw record until the end would double the memory of a large tenant's read.
   */
  constructor(
    private readonly schema: z.ZodType<T>,
    private readonly name: string,
    private readonly hint: string,
    private readonly map: (record: T) => R = (record) => record as unknown as R,
  ) {
    this.read = directReader(schema)
  }

  accept(item: unknown, index: number): void {
    let data = this.read ? this.read(item) : UNDECIDED
    if (data === UNDECIDED) {
      const result = this.schema.safeParse(item)
      if (!result.success) {
        const recordId = idOf(item)
        for (const issue of result.error.issues) {
          this.problems.add({
            record: index,
            ...(recordId !== undefined ? { recordId } : {}),
            ...(issue.path.length ? { field: issue.path.join('.') } : {}),
            problem: issue.message,
          })
        }
        return
      }
      data = result.data
    }
    // Graph GUIDs and Defender's hex ids are case-insensitive: "99C6…" and "99c6…" are one record.
    const id = data.id
    const key = id.toLowerCase()
    const first = this.seen.get(key)
    if (first !== undefined) {
      this.problems.add({
        record: index,
        recordId: id,
        field: 'id',
        problem: `duplicate id: record ${first} has the same id`,
      })
      return
    }
    this.seen.set(key, index)
    this.records.push(this.map(data))
  }

  /** @throws InputError when any record was rejected. */
  finish(): R[] {
    if (this.problems.total > 0)
      throw new InputError(this.name, this.problems.listed, this.hint, this.problems.total)
    return this.records
  }
}

/**
 * Parses and validates every record of a collection file; duplicate ids are an error.
 * @throws InputError naming the file, the record number, its id and the field.
 */
export async function readCollection<T extends { id: string }, R = T>(
  file: CollectionFile,
  schema: z.ZodType<T>,
  hint: string,
  map?: (record: T) => R,
): Promise<R[]> {
  const validator = new RecordValidator<T, R>(schema, file.name, hint, map)
  if (file.format === 'json') {
    const items = await readJsonItems(file)
    for (let i = 0; i < items.length; i++) validator.accept(items[i], i + 1)
  } else {
    await readJsonLines(file, (item, line) => validator.accept(item, line))
  }
  return validator.finish()
}

async function readJsonItems(file: CollectionFile): Promise<unknown[]> {
  const text = await readText(file)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new InputError(
      file.name,
      [{ problem: describeJsonError(err, text) }],
      'Re-export the collection; the file is not valid JSON (was it cut short?).',
    )
  }
  if (Array.isArray(doc)) return doc
  if (doc && typeof doc === 'object') {
    const obj = doc as Record<string, unknown>
    if (typeof obj['@odata.nextLink'] === 'string') {
      throw new InputError(
        file.name,
        [{ field: '@odata.nextLink', problem: 'the export holds only one page of the collection' }],
        'Follow @odata.nextLink to the end when exporting (offboard snapshot does this), then save all pages in one file.',
      )
    }
    if (Array.isArray(obj.value)) return obj.value
  }
  throw new InputError(file.name, [
    { problem: 'expected a collection response { "value": [ … ] } or a JSON array of records' },
  ])
}

async function readText(file: CollectionFile): Promise<string> {
  try {
    const info = await stat(file.path)
    // V8 strings top out near 512 MiB; JSONL streams instead.
    if (info.size > 400 * 1024 * 1024) {
      throw new InputError(
        file.name,
        [
          {
            problem: `the file is ${Math.round(info.size / 2 ** 20)} MiB, too large to read as one JSON document`,
          },
        ],
        'Export large collections as JSONL (one record per line), e.g. devices.jsonl.',
      )
    }
    return await readFile(file.path, 'utf8')
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError(file.name, [{ problem: `cannot read the file: ${(err as Error).message}` }])
  }
}

async function readJsonLines(
  file: CollectionFile,
  accept: (item: unknown, line: number) => void,
): Promise<void> {
  const input = createReadStream(file.path, { encoding: 'utf8' })
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  let lineNo = 0
  try {
    for await (const line of lines) {
      lineNo++
      const trimmed = line.trim()
      if (trimmed === '') continue
      let item: unknown
      try {
        item = JSON.parse(trimmed)
      } catch (err) {
        throw new InputError(
          file.name,
          [{ record: lineNo, problem: `line ${lineNo} is not valid JSON: ${(err as Error).message}` }],
          'Each line of a .jsonl export must hold one complete JSON record.',
        )
      }
      accept(item, lineNo)
    }
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError(file.name, [{ problem: `cannot read the file: ${(err as Error).message}` }])
  } finally {
    input.destroy()
  }
}

/** Turns V8's "… at position N" into a line and column, which people can find in an editor. */
export function describeJsonError(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err)
  const m = /position (\d+)/.exec(message)
  const base = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '')
  if (!m) {
    // V8 gives no position when the text simply stops ("Unexpected end of JSON input"): point at the end.
    if (/end of JSON input/i.test(message)) {
      const lines = text.split('\n')
      return `invalid JSON at line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}: ${base} (the file ends too early: was it truncated?)`
    }
    return `invalid JSON: ${base}`
  }
  const pos = Number(m[1])
  let line = 1
  let lineStart = 0
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  const where = pos >= text.length - 1 ? ' (the file ends too early: was it truncated?)' : ''
  return `invalid JSON at line ${line}, column ${pos - lineStart + 1}: ${base}${where}`
}

function idOf(item: unknown): string | undefined {
  if (item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string')
    return (item as { id: string }).id
  return undefined
}
