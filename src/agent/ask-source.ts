/**
 * @module Loads what `offboard ask` answers from out of the store: the tenant's latest completed run (its summary
 * and current suggestions), the previous completed run's compact suggestion list, and the tenant's tasks.
 */
import { z } from 'zod'
import { Report, Suggestion } from '../domain/report.js'
import { type AskData, RunSuggestionEntry } from '../language/ask-data.js'
import type { Store } from '../store/store.js'
import { NotFoundError, parseInput } from './errors.js'
import { TenantId } from './model.js'
import { authorize } from './roles.js'
import { latestCompletedRun } from './runs.js'
import { listTasks } from './tasks.js'

/** What `completeRun` keeps of the report in `runs.summary`. */
const StoredRunSummary = z.object({
  asOf: z.string(),
  policy: z.object({ staleAfterDays: z.number().int() }),
  summary: Report.shape.summary,
})

export async function loadAskData(store: Store, actor: string, tenant: string): Promise<AskData> {
  const tenantId = parseInput(TenantId, tenant, 'tenant id')
  await authorize(store, actor, 'view', { tenantId })
  const latest = await latestCompletedRun(store.db, tenantId)
  if (!latest)
    throw new NotFoundError(
      `tenant ${tenantId} has no completed run to answer from.`,
      "Run 'offboard run' first, or ask about a report file with --report FILE.",
    )
  const head = await store.db
    .selectFrom('runs')
    .select(['summary', 'ordinal', 'finished_at'])
    .where('id', '=', latest.id)
    .executeTakeFirstOrThrow()
  const stored = StoredRunSummary.safeParse(head.summary)
  if (!stored.success)
    throw new NotFoundError(
      `run ${latest.id} of tenant ${tenantId} has no readable summary (${stored.error.issues[0]?.message}).`,
      "Run 'offboard run' again.",
    )
  const rows = await store.db
    .selectFrom('suggestions')
    .select(['suggestion'])
    .where('tenant_id', '=', tenantId)
    .orderBy('position')
    .execute()
  // Validated like any input: a row written by another version must not slip by.
  const suggestions = rows.map((r) => Suggestion.parse(r.suggestion))

  // The completed run before the latest, in the same order latestCompletedRun uses.
  const prev = await store.db
    .selectFrom('runs')
    .select(['id', 'summary', 'suggestion_count'])
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'completed')
    .where('id', '<>', latest.id)
    .orderBy('finished_at', 'desc')
    .orderBy('ordinal', 'desc')
    .limit(1)
    .executeTakeFirst()
  let previous: AskData['previous'] = null
  let previousMissing: string | null = null
  if (!prev)
    previousMissing = `run ${latest.id} is the tenant's first completed run; there is nothing to compare it with.`
  else {
    const rows = await store.db
      .selectFrom('run_suggestions')
      .select(['id', 'category', 'name', 'device_key as key'])
      .where('run_id', '=', prev.id)
      .orderBy('position')
      .execute()
    // Validated like any input: a row written by another version must not slip by.
    const list = z.array(RunSuggestionEntry).safeParse(rows)
    // A list shorter than the run's count was never kept whole: runs recorded before offboard kept lists have none.
    if (!list.success || rows.length !== (prev.suggestion_count ?? 0))
      previousMissing = `the previous run ${prev.id} was recorded before offboard kept each run's suggestion list; the next run can be compared with the latest.`
    else {
      const asOf = StoredRunSummary.safeParse(prev.summary)
      previous = { runId: prev.id, asOf: asOf.success ? asOf.data.asOf : null, suggestions: list.data }
    }
  }

  const tasks = (await listTasks(store, actor, tenantId)).map((t) => ({
    id: t.id,
    suggestionId: t.suggestionId,
    status: t.status,
    assignee: t.assignee,
    name: t.suggestion.device.displayName,
    category: t.suggestion.category,
    stillFlagged: t.stillFlagged,
  }))

  return {
    origin: 'store',
    tenantId,
    runId: latest.id,
    asOf: stored.data.asOf,
    staleAfterDays: stored.data.policy.staleAfterDays,
    summary: stored.data.summary,
    suggestions,
    skipped: null,
    undetermined: null,
    previous,
    previousMissing,
    tasks,
  }
}
