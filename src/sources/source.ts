/** @module What every source declares: where its records live, what it needs, and how raw API objects become domain records. */
import type { z } from 'zod'
import type { AnyRecord, SourceName } from '../domain/device.js'

export interface SourceDefinition<Raw extends Record<string, unknown>, Rec extends AnyRecord> {
  name: SourceName
  /** Product name for people ("Intune"). */
  title: string
  /** Collection name: the snapshot file is `<collection>.json` or `<collection>.jsonl`. */
  collection: string
  /** The list endpoint (Graph v1.0 path or Defender API path). */
  endpoint: { api: 'graph' | 'defender'; path: string }
  /** Least-privileged permission that reads the collection (reference §1.1, §2.1, §3.1, §4.1). */
  readPermission: string
  /** Largest page to ask for (`$top`). */
  pageSize: number
  /** Schema fields not to put in `$select` (beta-only properties make v1.0 answer 400); false: the API takes no `$select`. */
  selectExclude: string[] | false
  /** zod schema of only the fields offboard reads; unknown fields are dropped, `$select` derives from it. */
  schema: z.ZodType<Raw>
  toRecord(raw: Raw): Rec
}

/** Identity helper that keeps the generic types inferred at the definition site. */
export function defineSource<Raw extends Record<string, unknown>, Rec extends AnyRecord>(
  def: SourceDefinition<Raw, Rec>,
): SourceDefinition<Raw, Rec> {
  return def
}

/** The fields a source reads, for `$select`; null when the API takes no `$select`. */
export function selectedFields(def: { schema: z.ZodType; selectExclude: string[] | false }): string[] | null {
  if (def.selectExclude === false) return null
  const shape = (def.schema as unknown as { shape?: Record<string, unknown> }).shape
  const exclude = def.selectExclude
  return shape ? Object.keys(shape).filter((k) => !exclude.includes(k)) : null
}
