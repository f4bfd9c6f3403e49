/**
 * @module The audit log: append-only and hash-chained. Each entry holds the previous entry's hash and its own
 * hash = sha256(prev_hash + canonical JSON of the entry), so `verifyAudit` finds an altered, inserted or deleted
 * entry. A chain without a secret cannot stop someone who rewrites every later hash, nor show that the newest
 * entries were cut off: `verifyAudit` returns the head hash so it can be kept somewhere else.
 */
import { createHash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { z } from 'zod'
import type { Database } from '../store/schema.js'
import type { Store } from '../store/store.js'

export const GENESIS_HASH = '0'.repeat(64)

/** The actions the services record. `action.<system>.<operation>` entries come from {@link recordDeviceAction}. */
export const AUDIT_ACTIONS = [
  'agent.create',
  'agent.renew',
  'agent.remove',
  'agent.instructions',
  'agent.schedule',
  'run.start',
  'run.finish',
  'run.fail',
  'permission.denied',
  'task.add',
  'task.assign',
  'task.status',
  'task.comment',
  'user.add',
  'user.role',
  'user.remove',
  'keys.export',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number] | `action.${string}`

export const AuditResult = z.enum(['ok', 'denied', 'refused', 'failed'])
export type AuditResult = z.infer<typeof AuditResult>

export interface AuditInput {
  actor: string
  action: AuditAction
  tenantId?: string | null
  target?: string | null
  before?: unknown
  after?: unknown
  result: AuditResult
}

export const AuditEntry = z.object({
  seq: z.number().int().positive(),
  at: z.date(),
  actor: z.string(),
  action: z.string(),
  tenantId: z.string().nullable(),
  target: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  result: z.string(),
  prevHash: z.string(),
  hash: z.string(),
})
export type AuditEntry = z.infer<typeof AuditEntry>

/**
 * Appends one entry. Inside a transaction it joins it (the entry commits or rolls back with the change it
 * records); otherwise it opens its own. The table lock serialises writers so that two appends cannot both link
 * to the same previous entry; reads are not blocked. Every transaction appends last, so the lock order is the
 * same everywhere and no two writers deadlock.
 */
export async function appendAudit(db: Kysely<Database>, at: Date, input: AuditInput): Promise<AuditEntry> {
  if (!db.isTransaction) return db.transaction().execute((tx) => appendAudit(tx, at, input))
  await sql`lock table audit_log in exclusive mode`.execute(db)
  const last = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
  const content: HashedContent = {
    at: at.toISOString(),
    actor: input.actor,
    action: input.action,
    tenantId: input.tenantId ?? null,
    target: input.target ?? null,
    before: toJsonValue(input.before),
    after: toJsonValue(input.after),
    result: input.result,
  }
  const prevHash = last?.hash ?? GENESIS_HASH
  const entry: AuditEntry = {
    seq: (last?.seq ?? 0) + 1,
    at,
    actor: content.actor,
    action: content.action,
    tenantId: content.tenantId,
    target: content.target,
    before: content.before,
    after: content.after,
    result: content.result,
    prevHash,
    hash: entryHash(prevHash, content),
  }
  await db
    .insertInto('audit_log')
    .values({
      seq: entry.seq,
      at,
      actor: entry.actor,
      action: entry.action,
      tenant_id: entry.tenantId,
      target: entry.target,
      before: entry.before === null ? null : JSON.stringify(entry.before),
      after: entry.after === null ? null : JSON.stringify(entry.after),
      result: entry.result,
      prev_hash: prevHash,
      hash: entry.hash,
    })
    .execute()
  return entry
}

/** What the hash covers. Not `seq`: order is the chain itself, so renumbering after a deletion still shows. */
interface HashedContent {
  at: string
  actor: string
  action: string
  tenantId: string | null
  target: string | null
  before: unknown
  after: unknown
  result: string
}

export function entryHash(prevHash: string, content: HashedContent): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(content)).digest('hex')
}

/** JSON with object keys sorted at every level: jsonb does not keep key order, so the hash must not depend on it. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const obj = value as Record<string, unknown>
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`
}

/**
 * The value as it will read back from jsonb: plain JSON (Dates become ISO strings, undefined keys vanish), and
 * NUL characters escaped because jsonb refuses `\u0000` — tenant data can hold one, and an audit entry must not fail.
 */
function toJsonValue(value: unknown): unknown {
  if (value === undefined || value === null) return null
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'string' ? v.replaceAll('\u0000', '\\u0000') : v,
    ),
  )
}

export interface AuditQuery {
  since?: Date
  tenantId?: string
  limit?: number
}

/** Entries in order (oldest first), optionally from a time on and for one tenant. */
export async function readAudit(db: Kysely<Database>, q: AuditQuery = {}): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit_log').selectAll().orderBy('seq', 'asc')
  if (q.since) query = query.where('at', '>=', q.since)
  if (q.tenantId) query = query.where('tenant_id', '=', q.tenantId)
  if (q.limit) query = query.limit(q.limit)
  return (await query.execute()).map(fromRow)
}

function fromRow(r: AuditRow): AuditEntry {
  return AuditEntry.parse({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    tenantId: r.tenant_id,
    target: r.target,
    before: r.before ?? null,
    after: r.after ?? null,
    result: r.result,
    prevHash: r.prev_hash,
    hash: r.hash,
  })
}

interface AuditRow {
  seq: number
  at: Date
  actor: string
  action: string
  tenant_id: string | null
  target: string | null
  before: unknown
  after: unknown
  result: string
  prev_hash: string
  hash: string
}

export type AuditProblem = 'altered' | 'inserted' | 'deleted'

export type VerifyResult =
  | { ok: true; entries: number; headSeq: number; headHash: string }
  | { ok: false; entries: number; seq: number; problem: AuditProblem; message: string }

const VERIFY_PAGE = 5_000

/**
 * Walks the chain from the first entry and reports the first break:
 * - a seq gap: entries were `deleted`;
 * - an entry whose prev_hash is the hash of the entry two back: the one between was `inserted`;
 * - any other broken link: an entry before it was `deleted` and the rest renumbered (or re-hashed after an edit);
 * - an entry whose content no longer matches its own hash: it was `altered`.
 */
export async function verifyAudit(db: Kysely<Database>): Promise<VerifyResult> {
  let expected = 1
  let prevHash = GENESIS_HASH
  let prevPrevHash: string | null = null
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expected)
      .orderBy('seq', 'asc')
      .limit(VERIFY_PAGE)
      .execute()
    if (rows.length === 0) break
    for (const row of rows) {
      const e = fromRow(row)
      const fail = (seq: number, problem: AuditProblem, message: string): VerifyResult => ({
        ok: false,
        entries: expected - 1,
        seq,
        problem,
        message,
      })
      if (e.seq !== expected) {
        const range = e.seq - 1 > expected ? `entries ${expected}–${e.seq - 1} are` : `entry ${expected} is`
        return fail(
          expected,
          'deleted',
          `${range} missing: the log jumps from ${expected - 1} to ${e.seq} (deleted).`,
        )
      }
      if (e.prevHash !== prevHash) {
        if (prevPrevHash !== null && e.prevHash === prevPrevHash)
          return fail(
            e.seq - 1,
            'inserted',
            `entry ${e.seq - 1} was inserted: entry ${e.seq} links to entry ${e.seq - 2}, not to it.`,
          )
        return fail(
          e.seq,
          'deleted',
          `entry ${e.seq} does not link to entry ${e.seq - 1}: an entry before it was deleted and the rest renumbered, or entry ${e.seq - 1} was rewritten with a new hash.`,
        )
      }
      const recomputed = entryHash(e.prevHash, {
        at: e.at.toISOString(),
        actor: e.actor,
        action: e.action,
        tenantId: e.tenantId,
        target: e.target,
        before: e.before,
        after: e.after,
        result: e.result,
      })
      if (recomputed !== e.hash)
        return fail(e.seq, 'altered', `entry ${e.seq} was altered: its content no longer matches its hash.`)
      prevPrevHash = prevHash
      prevHash = e.hash
      expected++
    }
  }
  return { ok: true, entries: expected - 1, headSeq: expected - 1, headHash: prevHash }
}

/**
 * Records an action on the tenant (e.g. disabling an Entra device): its target, state before and after, and result.
 * The caller has already passed `authorize(store, actor, 'disableDevices')`; a denial is audited there.
 */
export async function recordDeviceAction(
  store: Store,
  input: {
    actor: string
    tenantId: string
    system: string
    operation: string
    target: string
    before: unknown
    after: unknown
    result: AuditResult
  },
): Promise<AuditEntry> {
  return appendAudit(store.db, store.clock(), {
    actor: input.actor,
    action: `action.${input.system}.${input.operation}`,
    tenantId: input.tenantId,
    target: input.target,
    before: input.before,
    after: input.after,
    result: input.result,
  })
}
