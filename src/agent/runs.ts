/**
 * @module Recorded runs: one at a time per tenant, never paused or stopped, and all-or-nothing — a completed run
 * replaces the tenant's suggestions in one transaction; a failed or killed run leaves the previous ones intact.
 */
import { randomUUID } from 'node:crypto'
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely'
import { z } from 'zod'
import type { Report, ReportDevice } from '../domain/report.js'
import { primaryKey } from '../language/ask-data.js'
import { logger } from '../lib/log.js'
import { collectGarbageIfLarge, memoryNow } from '../lib/memory.js'
import { insertRows } from '../store/bulk-insert.js'
import type { Database, RunsTable } from '../store/schema.js'
import { borrowStore, type Store } from '../store/store.js'
import { assertAgentUsable, ensureTenant, findAgent, isUniqueViolation, TenantId } from './agents.js'
import { appendAudit } from './audit.js'
import {
  AgentExpiredError,
  ConflictError,
  NotFoundError,
  parseInput,
  RunInProgressError,
  type RunningRunInfo,
} from './errors.js'
import { authorize, SYSTEM_ACTOR } from './roles.js'

export const RunTrigger = z.enum(['manual', 'schedule'])
export type RunTrigger = z.infer<typeof RunTrigger>
export const RunStatus = z.enum(['running', 'completed', 'failed'])
export type RunStatus = z.infer<typeof RunStatus>

/**
 * A run still "running" after this long is presumed dead even when a process with its pid is alive: the pid may
 * have been reused, or the run was started on another host whose processes cannot be checked from here.
 */
export const DEFAULT_MAX_RUN_HOURS = 12
const MAX_ERROR_CHARS = 2_000

export interface RunCounts {
  devices: number
  suggestions: number
  skipped: number
  undetermined: number
}

export interface RunRecord {
  id: string
  tenantId: string
  trigger: RunTrigger
  status: RunStatus
  actor: string
  startedAt: Date
  finishedAt: Date | null
  pid: number
  host: string
  error: string | null
  /** The agent's custom instructions when the run started; null for a tenant without an agent. */
  instructions: string | null
  counts: RunCounts | null
}

export interface StartRunOptions {
  tenantId: string
  trigger: RunTrigger
  actor: string
  maxRunHours?: number
}

/**
 * Every column but the suggestion list, which can be megabytes for a large tenant and is read only to answer
 * "what changed since the last run".
 */
const RUN_COLUMNS = [
  'id',
  'ordinal',
  'tenant_id',
  'trigger',
  'status',
  'actor',
  'started_at',
  'finished_at',
  'pid',
  'host',
  'error',
  'instructions',
  'summary',
  'device_count',
  'suggestion_count',
  'skipped_count',
  'undetermined_count',
] as const satisfies readonly (keyof RunsTable)[]

type RunRow = Selectable<RunsTable>

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    trigger: RunTrigger.parse(r.trigger),
    status: RunStatus.parse(r.status),
    actor: r.actor,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    pid: r.pid,
    host: r.host,
    error: r.error,
    instructions: r.instructions,
    counts:
      r.device_count === null
        ? null
        : {
            devices: r.device_count,
            suggestions: r.suggestion_count ?? 0,
            skipped: r.skipped_count ?? 0,
            undetermined: r.undetermined_count ?? 0,
          },
  }
}

function runningInfo(r: RunRow): RunningRunInfo {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    trigger: r.trigger,
    actor: r.actor,
    startedAt: r.started_at,
    pid: r.pid,
    host: r.host,
  }
}

async function findRunning(db: Kysely<Database>, tenantId: string): Promise<RunRow | undefined> {
  return db
    .selectFrom('runs')
    .select(RUN_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'running')
    .executeTakeFirst()
}

/**
 * Marks failed the tenant's runs whose process is gone: on this host with a pid no longer alive, or running for
 * longer than `maxRunHours`. Their suggestions were never written, so the previous ones stay.
 */
export async function reapDeadRuns(
  store: Store,
  tenantId?: string,
  maxRunHours = DEFAULT_MAX_RUN_HOURS,
): Promise<RunRecord[]> {
  const now = store.clock()
  let query = store.db.selectFrom('runs').select(RUN_COLUMNS).where('status', '=', 'running')
  if (tenantId) query = query.where('tenant_id', '=', tenantId)
  const reaped: RunRecord[] = []
  for (const r of await query.execute()) {
    const { pid, host } = store.runtime
    const dead = r.host === host && r.pid !== pid && !store.runtime.isAlive(r.pid)
    const overdue = now.getTime() - r.started_at.getTime() > maxRunHours * 3_600_000
    if (!dead && !overdue) continue
    const error = dead
      ? `the process running it (pid ${r.pid} on ${r.host}) ended before the run finished; the previous suggestions were kept.`
      : `still running after ${maxRunHours} hours (pid ${r.pid} on ${r.host}), so presumed dead; the previous suggestions were kept.`
    const done = await store.db.transaction().execute(async (tx) => {
      // `status = 'running'` again: another process may have reaped it in the meantime.
      const updated = await tx
        .updateTable('runs')
        .set({ status: 'failed', finished_at: now, error })
        .where('id', '=', r.id)
        .where('status', '=', 'running')
        .returning(RUN_COLUMNS)
        .executeTakeFirst()
      if (!updated) return null
      await appendAudit(tx, now, {
        actor: SYSTEM_ACTOR,
        action: 'run.fail',
        tenantId: r.tenant_id,
        target: r.id,
        before: { status: 'running' },
        after: { status: 'failed', error },
        result: 'failed',
      })
      return toRecord(updated)
    })
    if (done) reaped.push(done)
  }
  return reaped
}

/**
 * Starts a run for a tenant: checks the agent identity (when the tenant has an agent), refuses a second running
 * run, records the start. First marks failed any run of a process that died.
 * @throws RunInProgressError naming the running run; the refusal is audited.
 * @throws AgentExpiredError when the identity expired; recorded as a failed run.
 */
export async function startRun(store: Store, opts: StartRunOptions): Promise<RunRecord> {
  const tenantId = parseInput(TenantId, opts.tenantId, 'tenant id')
  await authorize(store, opts.actor, 'run', { tenantId })
  await reapDeadRuns(store, tenantId, opts.maxRunHours)
  const at = store.clock()
  const id = randomUUID()
  const { pid, host } = store.runtime
  try {
    return await store.db.transaction().execute(async (tx) => {
      await ensureTenant(tx, tenantId, at)
      const agent = await findAgent(tx, tenantId)
      if (agent) assertAgentUsable(agent, at)
      const running = await findRunning(tx, tenantId)
      if (running) throw new RunInProgressError(runningInfo(running))
      const row = await tx
        .insertInto('runs')
        .values({
          id,
          tenant_id: tenantId,
          trigger: opts.trigger,
          status: 'running',
          actor: opts.actor,
          started_at: at,
          pid,
          host,
          instructions: agent?.instructions ?? null,
        })
        .returning(RUN_COLUMNS)
        .executeTakeFirstOrThrow()
      // The identity refreshes with each run: this is what keeps it from expiring.
      if (agent) await tx.updateTable('agents').set({ last_run_at: at }).where('id', '=', agent.id).execute()
      await appendAudit(tx, at, {
        actor: opts.actor,
        action: 'run.start',
        tenantId,
        target: id,
        after: { trigger: opts.trigger, pid, host, agentIdentity: agent?.admin_upn ?? null },
        result: 'ok',
      })
      return toRecord(row)
    })
  } catch (caught) {
    let err = caught
    // Two starts racing past the check: the unique partial index lets one insert win; name it to the loser.
    if (isUniqueViolation(err, 'runs_one_running_per_tenant')) {
      const running = await findRunning(store.db, tenantId)
      if (running) err = new RunInProgressError(runningInfo(running))
    }
    if (err instanceof RunInProgressError) {
      await appendAudit(store.db, at, {
        actor: opts.actor,
        action: 'run.start',
        tenantId,
        target: err.running.id,
        after: { trigger: opts.trigger, refusedBecause: `run ${err.running.id} is running` },
        result: 'refused',
      })
    } else if (err instanceof AgentExpiredError) {
      await recordExpiredRun(store, { ...opts, tenantId }, id, at, err)
    }
    throw err
  }
}

async function recordExpiredRun(
  store: Store,
  opts: StartRunOptions,
  id: string,
  at: Date,
  err: AgentExpiredError,
): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('runs')
      .values({
        id,
        tenant_id: opts.tenantId,
        trigger: opts.trigger,
        status: 'failed',
        actor: opts.actor,
        started_at: at,
        finished_at: at,
        pid: store.runtime.pid,
        host: store.runtime.host,
        error: err.message,
      })
      .execute()
    await appendAudit(tx, at, {
      actor: opts.actor,
      action: 'run.fail',
      tenantId: opts.tenantId,
      target: id,
      after: { status: 'failed', error: err.message },
      result: 'failed',
    })
  })
}

export interface CompleteRunOptions {
  /**
   * By default every suggestion starts afresh (status notStarted, no assignee), as Microsoft's agent does on a
   * re-run ("running the agent will reset your current suggestions, status, and assignments"); Tasks keep the
   * work. With this, a suggestion whose id survives keeps its status and assignee. Open tasks are linked either way.
   */
  keepSuggestionState?: boolean
}

/**
 * Completes a run: in one transaction, stores its summary and replaces the tenant's suggestions with the report's.
 * Readers see either the previous set or the new one, never half of either.
 * @throws ConflictError when the run is no longer running (e.g. marked failed as dead); nothing is replaced.
 */
export async function completeRun(
  store: Store,
  runId: string,
  report: Report,
  opts: CompleteRunOptions = {},
): Promise<RunRecord> {
  const at = store.clock()
  const { completed, removal } = await store.db.transaction().execute(async (tx) => {
    const run = await tx
      .selectFrom('runs')
      .select(RUN_COLUMNS)
      .where('id', '=', runId)
      .forUpdate()
      .executeTakeFirst()
    if (!run) throw new NotFoundError(`run ${runId} does not exist.`)
    if (run.status !== 'running')
      throw new ConflictError(
        `run ${runId} is ${run.status}${run.error ? ` (${run.error})` : ''}; its results were not stored and the previous suggestions are kept.`,
        'Start a new run.',
      )
    if (report.tenantId !== null && report.tenantId !== run.tenant_id)
      throw new ConflictError(
        `the report is for tenant ${report.tenantId} but run ${runId} is for tenant ${run.tenant_id}; nothing was stored.`,
      )
    const tenantId = run.tenant_id
    const previous = new Map(
      (
        await tx
          .selectFrom('suggestions')
          .select(['id', 'status', 'assignee', 'task_id', 'first_seen_at'])
          .where('tenant_id', '=', tenantId)
          .execute()
      ).map((r) => [r.id, r]),
    )
    const openTasks = new Map(
      (
        await tx
          .selectFrom('tasks')
          .select(['id', 'suggestion_id', 'status', 'assignee'])
          .where('tenant_id', '=', tenantId)
          .where('status', '<>', 'completed')
          .execute()
      ).map((t) => [t.suggestion_id, t]),
    )
    const removal = await removeSuggestions(store, tx, tenantId)
    // Built as COPY takes them, so that no more than one suggestion's JSON text is alive at a time.
    function* rows() {
      for (const [position, s] of report.suggestions.entries()) {
        const prev = opts.keepSuggestionState ? previous.get(s.id) : undefined
        const task = openTasks.get(s.id)
        yield {
          tenant_id: tenantId,
          id: s.id,
          run_id: runId,
          position,
          category: s.category,
          severity: s.severity,
          platform: s.device.platform,
          display_name: s.device.displayName,
          suggestion: JSON.stringify(s),
          device_keys: deviceKeys(s.device),
          status: task?.status ?? prev?.status ?? 'notStarted',
          assignee: task ? task.assignee : (prev?.assignee ?? null),
          task_id: task?.id ?? prev?.task_id ?? null,
          first_seen_at: previous.get(s.id)?.first_seen_at ?? at,
        }
      }
    }
    // The rows' references are the run (locked above) and its tenant (which the run references).
    await insertRows(store, tx, 'suggestions', rows(), {
      truncated: removal === 'truncated',
      referencesChecked: true,
    })
    // The run's list, for "what changed since the last run" (its reference is the run, locked above); built as the
    // COPY takes it, like the suggestions' rows.
    function* listRows() {
      for (const [position, s] of report.suggestions.entries()) {
        yield {
          run_id: runId,
          position,
          id: s.id,
          category: s.category,
          name: s.device.displayName,
          device_key: primaryKey(s.device),
        }
      }
    }
    await insertRows(store, tx, 'run_suggestions', listRows(), { referencesChecked: true })
    const counts = report.summary.counts
    const updated = await tx
      .updateTable('runs')
      .set({
        status: 'completed',
        finished_at: at,
        summary: JSON.stringify({
          asOf: report.asOf,
          generator: report.generator,
          sources: report.sources,
          policy: report.policy,
          summary: report.summary,
        }),
        device_count: counts.devices,
        suggestion_count: report.suggestions.length,
        skipped_count: report.skipped.length,
        undetermined_count: report.undetermined.length,
      })
      .where('id', '=', runId)
      .returning(RUN_COLUMNS)
      .executeTakeFirstOrThrow()
    // "What changed since the last run" needs this run's list and the previous one's; older lists are dropped.
    const keep = await tx
      .selectFrom('runs')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'completed')
      .orderBy('finished_at', 'desc')
      .orderBy('ordinal', 'desc')
      .limit(2)
      .execute()
    await tx
      .deleteFrom('run_suggestions')
      .where('run_id', 'in', (eb) =>
        eb
          .selectFrom('runs')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where(
            'id',
            'not in',
            keep.map((r) => r.id),
          ),
      )
      .execute()
    const kept = report.suggestions.filter((s) => previous.has(s.id)).length
    await appendAudit(tx, at, {
      actor: run.actor,
      action: 'run.finish',
      tenantId,
      target: runId,
      before: { suggestions: previous.size },
      after: {
        status: 'completed',
        suggestions: report.suggestions.length,
        kept,
        added: report.suggestions.length - kept,
        dropped: previous.size - kept,
      },
      result: 'ok',
    })
    return { completed: toRecord(updated), removal }
  })
  // A truncated table has no dead rows; vacuuming it anyway rewrote every page (150 MB of WAL at 100k devices).
  await reclaimSpace(
    store,
    removal === 'truncated' ? ['runs', 'run_suggestions'] : ['suggestions', 'runs', 'run_suggestions'],
  )
  return completed
}

type Removal = 'truncated' | 'deleted'

/**
 * Removes a tenant's suggestions within `tx`. On PGlite, when no other tenant has any, by TRUNCATE: the table gets
 * new files, so the rows written next in this transaction are not also written to the WAL (wal_level is minimal
 * there, store.ts) and no dead rows are left for VACUUM. PGlite has one session, so no other transaction can see
 * the table emptied. PostgreSQL, whose readers may hold older snapshots, gets a DELETE.
 */
async function removeSuggestions(
  store: Store,
  tx: Transaction<Database>,
  tenantId: string,
): Promise<Removal> {
  if (store.kind === 'pglite') {
    const others = await tx
      .selectFrom('tenants')
      .select('id')
      .where('id', '<>', tenantId)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('suggestions').select('tenant_id').whereRef('suggestions.tenant_id', '=', 'tenants.id'),
        ),
      )
      .limit(1)
      .executeTakeFirst()
    if (!others) {
      await sql`truncate suggestions`.execute(tx)
      return 'truncated'
    }
  }
  await tx.deleteFrom('suggestions').where('tenant_id', '=', tenantId).execute()
  return 'deleted'
}

/**
 * PGlite has no autovacuum, and every run deletes a tenant's suggestions and writes them anew: without this the
 * table grew by the whole set each run (80 MB a run at 100k devices, measured), and each run read all of it again.
 * VACUUM makes the dead rows' space reusable by the next run. PostgreSQL's autovacuum does this by itself.
 * The run is already recorded: a failure here is logged, not raised.
 */
async function reclaimSpace(
  store: Store,
  tables: readonly ('suggestions' | 'runs' | 'run_suggestions')[],
): Promise<void> {
  if (store.kind !== 'pglite') return
  try {
    await sql`vacuum ${sql.join(tables.map((t) => sql.table(t)))}`.execute(store.db)
  } catch (err) {
    logger().warn({
      event: 'runs.reclaimSpace.failed',
      location: store.location,
      problem: (err as Error).message,
    })
  }
}

/** Marks a running run failed. The suggestions are untouched. @returns null when it was not running any more. */
export async function failRun(store: Store, runId: string, error: unknown): Promise<RunRecord | null> {
  const at = store.clock()
  const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_CHARS)
  return store.db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('runs')
      .set({ status: 'failed', finished_at: at, error: message })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .returning(RUN_COLUMNS)
      .executeTakeFirst()
    if (!updated) return null
    await appendAudit(tx, at, {
      actor: updated.actor,
      action: 'run.fail',
      tenantId: updated.tenant_id,
      target: runId,
      before: { status: 'running' },
      after: { status: 'failed', error: message },
      result: 'failed',
    })
    return toRecord(updated)
  })
}

export interface RunContext {
  run: RunRecord
  /** The agent's custom instructions to apply ('' when there are none or the tenant has no agent). */
  instructions: string
  /** The identity the run signs in as, when the tenant has an agent. */
  agent: { adminUpn: string; authMethod: string; clientId: string | null } | null
}

export interface RecordedRunOptions extends StartRunOptions, CompleteRunOptions {
  /**
   * An open store (used as is, not closed), or a function opening one. With a function the store is opened only to
   * start and to complete the run and closed in between, so that while a long run reads the tenant other
   * processes can use a PGlite data folder — and a second start is refused by naming this run, rather than by the
   * folder lock.
   */
  store: Store | (() => Promise<Store>)
}

/**
 * Runs `produce` as a recorded run: start (refused if one is running), produce the report, complete (replacing
 * the suggestions). If `produce` throws, the run is marked failed, the previous suggestions stay, and the error is
 * rethrown. If the process dies, the next start marks the run failed.
 */
export function withRecordedRun(
  opts: RecordedRunOptions,
  produce: (ctx: RunContext) => Promise<Report>,
): Promise<Report> {
  return withRecordedRunReading(
    opts,
    async (_signal, started) => {
      await started
    },
    (ctx) => produce(ctx),
  )
}

/**
 * As {@link withRecordedRun}, with the tenant read by `read` while the run is started, so that reading does not
 * wait for the store to open (opening PGlite and recording the start take 0.6-0.9 s, mostly on PGlite's own thread,
 * which reading's own waits on the network can cover). `read` is given a signal that aborts
 * with the start's error when the start is refused (a run already in progress, say): a reader that cannot stop
 * half-way should await `started` before it begins. `produce` then gets the started run and what was read. A
 * refused start is the error thrown, whatever reading did; a failure to read marks the started run failed.
 */
export async function withRecordedRunReading<D>(
  opts: RecordedRunOptions,
  read: (signal: AbortSignal, started: Promise<RunContext>) => Promise<D>,
  produce: (ctx: RunContext, data: D) => Promise<Report>,
): Promise<Report> {
  const open =
    typeof opts.store === 'function' ? opts.store : () => Promise.resolve(borrowStore(opts.store as Store))
  const t0 = performance.now()
  let startMs = 0
  const started = using(open, async (store): Promise<RunContext> => {
    const run = await startRun(store, opts)
    const agent = await findAgent(store.db, run.tenantId)
    return {
      run,
      instructions: run.instructions ?? '',
      agent: agent
        ? { adminUpn: agent.admin_upn, authMethod: agent.auth_method, clientId: agent.client_id }
        : null,
    }
  }).finally(() => {
    startMs = performance.now() - t0
  })
  const reading = new AbortController()
  // Handled here as well as awaited below: a refused start stops the reading at once.
  started.catch((err: unknown) => reading.abort(err))
  let ctx: RunContext | undefined
  let report: Report
  try {
    const data = await read(reading.signal, started)
    ctx = await started
    report = await produce(ctx, data)
  } catch (err) {
    // A refused start is the run's error (its reading was only stopped by it); nothing was started to mark failed.
    ctx ??= await started
    // The run's own error matters more than a failure to record it; a run left "running" is reaped later.
    await using(open, (store) => failRun(store, ctx!.run.id, err)).catch(() => {})
    throw err
  }
  // Producing the report left about as much garbage as the report (1M devices: 1.4 GB in use, 1.0 GB alive). With
  // PGlite on its own thread nothing here grows outside the heap, so V8 saw no reason to collect, and storing the
  // report grew the heap instead of reusing that space: a 1M run peaked at 2,266-2,289 MiB without this collection,
  // 1,893-1,922 MiB with it, which costs 1.8 s there. A small run skips it (see collectGarbageIfLarge).
  collectGarbageIfLarge()
  const t2 = performance.now()
  await using(open, async (store) => {
    try {
      await completeRun(store, ctx.run.id, report, opts)
    } catch (err) {
      await failRun(store, ctx.run.id, err).catch(() => {})
      throw err
    }
  })
  // Where a slow run spends its time, for --debug: the store's share (start, alongside reading; complete) beside
  // reading and producing the report.
  logger().debug({
    event: 'runs.recordedRun.done',
    runId: ctx.run.id,
    startMs: Math.round(startMs),
    produceMs: Math.round(t2 - t0),
    completeMs: Math.round(performance.now() - t2),
    ...memoryNow(),
  })
  return report
}

async function using<T>(open: () => Promise<Store>, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await open()
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

export async function listRuns(
  store: Store,
  actor: string,
  tenantId: string,
  limit = 20,
): Promise<RunRecord[]> {
  await authorize(store, actor, 'view', { tenantId })
  const rows = await store.db
    .selectFrom('runs')
    .select(RUN_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .orderBy('ordinal', 'desc')
    .limit(limit)
    .execute()
  return rows.map(toRecord)
}

export async function latestCompletedRun(db: Kysely<Database>, tenantId: string): Promise<RunRecord | null> {
  const row = await db
    .selectFrom('runs')
    .select(RUN_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'completed')
    .orderBy('finished_at', 'desc')
    .orderBy('ordinal', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row ? toRecord(row) : null
}

/**
 * The device's stable ids as `kind:id` keys, lower-cased (the ids are GUIDs, case-insensitive): every record
 * joined into it plus the per-source ids. A task matches a later suggestion when any key is shared.
 */
export function deviceKeys(device: ReportDevice): string[] {
  const keys = new Set<string>()
  const add = (kind: string, id: string | null) => {
    if (id) keys.add(`${kind}:${id.toLowerCase()}`)
  }
  add('entra', device.ids.entraObjectId)
  add('entraDeviceId', device.ids.entraDeviceId)
  add('intune', device.ids.intuneDeviceId)
  add('autopilot', device.ids.autopilotId)
  add('defender', device.ids.defenderMachineId)
  for (const r of device.records) add(r.source, r.id)
  return [...keys].sort()
}
