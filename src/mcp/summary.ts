/**
 * @module The summary of a tenant's latest completed run as the store kept it (counts per category and skip
 * reason, undetermined, sources, when it ran), and the latest run of any status when that one did not complete.
 */
import type { z } from 'zod'
import { NotFoundError } from '../agent/errors.js'
import { listRuns, type RunRecord } from '../agent/runs.js'
import { Report } from '../domain/report.js'
import type { Store } from '../store/store.js'

/** What `completeRun` stores in `runs.summary`; validated on the way out like any JSON read back from the store. */
const StoredSummary = Report.pick({ asOf: true, sources: true, policy: true, summary: true })

export interface RunSummary {
  tenantId: string
  run: {
    id: string
    trigger: string
    actor: string
    startedAt: Date
    finishedAt: Date | null
    asOf: string
  }
  summary: z.infer<typeof StoredSummary>['summary']
  sources: z.infer<typeof StoredSummary>['sources']
  policy: z.infer<typeof StoredSummary>['policy']
  /** The newest run when it is not the completed one (running, or failed: the suggestions are the older run's). */
  newerRun: Pick<RunRecord, 'id' | 'status' | 'startedAt' | 'error'> | null
}

/** How far back to look for the latest completed run among the newest runs. */
const RECENT_RUNS = 50

/**
 * @throws PermissionDenied (audited) unless the actor may view; NotFoundError when the tenant has no completed run.
 */
export async function latestRunSummary(store: Store, actor: string, tenantId: string): Promise<RunSummary> {
  const runs = await listRuns(store, actor, tenantId, RECENT_RUNS)
  const completed = runs.find((r) => r.status === 'completed')
  if (!completed)
    throw new NotFoundError(
      `tenant ${tenantId} has no completed run${runs[0] ? ` among its latest ${runs.length} runs (the newest is ${runs[0].status})` : ''}.`,
      "Run the agent first: offboard run (or wait for 'offboard serve').",
    )
  const row = await store.db
    .selectFrom('runs')
    .select('summary')
    .where('id', '=', completed.id)
    .executeTakeFirstOrThrow()
  const stored = StoredSummary.parse(row.summary)
  const newest = runs[0]!
  return {
    tenantId,
    run: {
      id: completed.id,
      trigger: completed.trigger,
      actor: completed.actor,
      startedAt: completed.startedAt,
      finishedAt: completed.finishedAt,
      asOf: stored.asOf,
    },
    summary: stored.summary,
    sources: stored.sources,
    policy: stored.policy,
    newerRun:
      newest.id === completed.id
        ? null
        : { id: newest.id, status: newest.status, startedAt: newest.startedAt, error: newest.error },
  }
}
