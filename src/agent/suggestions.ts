/** @module The tenant's current suggestions (those of its latest completed run), with their status and assignee. */
import type { Kysely, Selectable } from 'kysely'
import { z } from 'zod'
import { Platform } from '../domain/device.js'
import { Category, Severity, Suggestion } from '../domain/report.js'
import type { Database, SuggestionsTable } from '../store/schema.js'
import type { Store } from '../store/store.js'
import { ConflictError, NotFoundError, parseInput } from './errors.js'
import { WorkStatus } from './model.js'
import { authorize } from './roles.js'

export { WorkStatus } from './model.js'

export interface StoredSuggestion {
  tenantId: string
  id: string
  runId: string
  category: Category
  severity: Severity
  platform: Platform
  displayName: string | null
  status: WorkStatus
  assignee: string | null
  /** The task tracking it, if it was added to Tasks. */
  taskId: number | null
  /** When a run first suggested it (kept across runs while the id survives). */
  firstSeenAt: Date
  suggestion: Suggestion
}

export const SuggestionFilter = z.object({
  category: Category.optional(),
  platform: Platform.optional(),
  severity: Severity.optional(),
  status: WorkStatus.optional(),
})
export type SuggestionFilter = z.infer<typeof SuggestionFilter>

type SuggestionRow = Selectable<SuggestionsTable>

export function toStoredSuggestion(r: SuggestionRow): StoredSuggestion {
  return {
    tenantId: r.tenant_id,
    id: r.id,
    runId: r.run_id,
    category: Category.parse(r.category),
    severity: Severity.parse(r.severity),
    platform: Platform.parse(r.platform),
    displayName: r.display_name,
    status: WorkStatus.parse(r.status),
    assignee: r.assignee,
    taskId: r.task_id,
    firstSeenAt: r.first_seen_at,
    // JSON from the database is validated like any other input: a row written by another version must not slip by.
    suggestion: Suggestion.parse(r.suggestion),
  }
}

/** The tenant's current suggestions in report order, optionally filtered. */
export async function listSuggestions(
  store: Store,
  actor: string,
  tenantId: string,
  filter: SuggestionFilter = {},
): Promise<StoredSuggestion[]> {
  const f = parseInput(SuggestionFilter, filter, 'filter')
  await authorize(store, actor, 'view', { tenantId })
  let q = store.db.selectFrom('suggestions').selectAll().where('tenant_id', '=', tenantId)
  if (f.category) q = q.where('category', '=', f.category)
  if (f.platform) q = q.where('platform', '=', f.platform)
  if (f.severity) q = q.where('severity', '=', f.severity)
  if (f.status) q = q.where('status', '=', f.status)
  return (await q.orderBy('position').execute()).map(toStoredSuggestion)
}

/** One suggestion by id, or by an unambiguous prefix of at least 6 characters. */
export async function getSuggestion(
  store: Store,
  actor: string,
  tenantId: string,
  id: string,
): Promise<StoredSuggestion> {
  await authorize(store, actor, 'view', { tenantId })
  return toStoredSuggestion(await findSuggestionRow(store.db, tenantId, id))
}

const MIN_PREFIX = 6

export async function findSuggestionRow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<SuggestionRow> {
  const wanted = id.trim()
  const exact = await db
    .selectFrom('suggestions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', wanted)
    .executeTakeFirst()
  if (exact) return exact
  if (wanted.length >= MIN_PREFIX) {
    const like = `${wanted.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const matches = await db
      .selectFrom('suggestions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', 'like', like)
      .limit(2)
      .execute()
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1)
      throw new ConflictError(
        `"${wanted}" matches several suggestions of tenant ${tenantId}; give more of the id.`,
      )
  }
  throw new NotFoundError(
    `tenant ${tenantId} has no current suggestion ${wanted}.`,
    "Suggestions are replaced by each completed run; list the current ones with 'offboard suggestions'. A task keeps its copy: see 'offboard tasks'.",
  )
}
