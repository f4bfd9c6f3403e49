/**
 * @module Acting on a tenant's current suggestions: plan (dry run), brakes, a write-ahead log of steps in the store,
 * execution through operation handlers in `$batch`es, resume after a crash, and undo. `agent` steps run here, and
 * `optIn` steps when the tenant policy's `optIn` list enables them; `manual` steps are listed, never executed
 * (decisions.md, "Automation levels"). A device's steps run in plan order; after a failed one its later steps wait.
 */
import { randomUUID } from 'node:crypto'
import type { Selectable, Updateable } from 'kysely'
import { type AuditResult, appendAudit, recordDeviceAction } from '../agent/audit.js'
import { ConflictError, NotFoundError } from '../agent/errors.js'
import { authorize } from '../agent/roles.js'
import { latestCompletedRun } from '../agent/runs.js'
import type { Action, Automation } from '../domain/action.js'
import type { OptInOperation } from '../domain/policy.js'
import { Category, Suggestion } from '../domain/report.js'
import { OffboardError, UsageError } from '../lib/errors.js'
import type { ApiClient } from '../lib/graph-client.js'
import { insertRows } from '../store/bulk-insert.js'
import type { ActionStepsTable } from '../store/schema.js'
import type { Store } from '../store/store.js'
import { autopilotDeleteHandler, autopilotUnassignHandler } from './autopilot.js'
import { defenderOffboardHandler } from './defender-offboard.js'
import { DEFAULT_GRACE_DAYS, entraDeleteHandler } from './entra-delete.js'
import { entraDisableHandler, entraWriteLimiter } from './entra-disable.js'
import {
  type ActHistory,
  BATCH_SIZE,
  type HandlerContext,
  HandlerRegistry,
  handlerKey,
  type Observation,
  type OperationHandler,
  type StepOutcome,
  type StepTarget,
} from './handler.js'
import { intuneDeleteHandler, intuneRetireHandler } from './intune-device.js'
import { keysExportedAt } from './keys-export.js'

/** decisions.md, "Brakes": per-run caps on destructive steps and on the share of the fleet touched. */
export const DEFAULT_MAX_ACTIONS = 100
export const DEFAULT_MAX_SHARE = 0.1
/**
 * Intune's daily tenant limits (reference §1.4), counted over the last 24 hours. They are cumulative across the
 * portal, bulk actions and Graph; offboard sees only its own, so the rest of the day's budget may be smaller.
 */
export const INTUNE_DAILY_CAPS: Readonly<Record<string, number>> = { delete: 1_000, retire: 1_000, wipe: 500 }
const DAY_MS = 86_400_000

export type StepState = 'planned' | 'sent' | 'done' | 'failed' | 'skipped' | 'undone'

export interface ActSelection {
  suggestionIds?: readonly string[]
  category?: Category
  all?: boolean
}

/** A step of the plan as the dry run shows it. */
export interface PlanStep {
  position: number
  suggestionId: string
  system: string
  operation: string
  target: string
  targetName: string | null
  automation: Automation
  /** True when offboard runs it; false for opt-in and manual steps (listed only). */
  runByOffboard: boolean
  call: string | null
  change: string | null
  /** Why offboard does not run it, or a warning about running it. */
  note: string | null
  /** What the admin must know before it runs (a delete that wipes, an unsupported platform): from the plan. */
  warnings: string[]
}

export interface Brakes {
  actions: number
  maxActions: number
  fleet: number
  share: number
  maxShare: number
  /** Empty when the plan is within both caps. */
  exceeded: string[]
}

export interface ActPlan {
  tenantId: string
  runId: string
  suggestions: number
  steps: PlanStep[]
  notRun: PlanStep[]
  brakes: Brakes
}

export interface StepResult {
  stepId: number | null
  suggestionId: string
  system: string
  operation: string
  target: string
  targetName: string | null
  state: StepState | 'wouldRun' | 'wouldSkip' | 'wouldFail'
  note: string | null
  before: unknown
  after: unknown
}

export interface ActResult {
  actId: string | null
  tenantId: string
  runId: string
  dryRun: boolean
  steps: StepResult[]
  notRun: PlanStep[]
  brakes: Brakes
  counts: Record<string, number>
}

/** Durable points of an act, for progress and for tests that crash the process at each of them. */
export type ActEvent =
  | { type: 'planned'; actId: string; steps: number }
  | { type: 'sent'; actId: string; stepIds: number[] }
  | { type: 'response'; actId: string; stepIds: number[] }
  | { type: 'finished'; actId: string; stepId: number; state: StepState; done: number; total: number }
  /** Execution begins (also on --resume): the open steps per `system:operation`, for progress estimates. */
  | { type: 'started'; actId: string; open: Record<string, number>; done: number; total: number }
  /** Every step was sent; the act now follows the asynchronous work of `steps` done steps (Defender). */
  | { type: 'following'; actId: string; steps: number }

export interface ActContext {
  tenantId: string
  actor: string
  graph: ApiClient
  /** The Defender for Endpoint client, for an enabled `defender.offboard`. */
  defender?: ApiClient
  registry?: HandlerRegistry
  sleep?: (ms: number) => Promise<void>
  /** The act's clock, epoch ms (default Date.now): bounded waits and grace periods are measured with it. */
  now?: () => number
  /** Called after each durable write; an exception here stops the act where it is, as a crash would. */
  onEvent?: (e: ActEvent) => void | Promise<void>
  /** Signed in as a user (device code, browser): see HandlerContext.delegated. */
  delegated?: boolean
  /** The tenant policy's `entraDeleteGraceDays` (default 30): kept with the act, so --resume applies the same. */
  entraDeleteGraceDays?: number
  /** The admin acknowledged (`--keys-exported`) that BitLocker keys were saved outside offboard; kept with the act. */
  keysExported?: boolean
}

export interface ActOptions extends ActContext {
  selection: ActSelection
  /** The tenant policy's `optIn` list: the opt-in operations this act may run (default: none). */
  policy?: { optIn?: readonly OptInOperation[] }
  maxActions?: number
  /** 0..1. */
  maxShare?: number
}

/** A plan past the brakes: nothing was sent. */
export class BrakeError extends OffboardError {
  constructor(
    readonly brakes: Brakes,
    hint: string,
  ) {
    super(`the act was refused before any call: ${brakes.exceeded.join('; ')}.`, hint)
  }
}

/**
 * The handlers offboard runs by default; one Entra write limiter shared by disable and delete (the limit is per app
 * and tenant, reference §2.4).
 */
export function defaultRegistry(opts: { entraDeleteGraceDays?: number } = {}): HandlerRegistry {
  const writeLimiter = entraWriteLimiter()
  return new HandlerRegistry([
    entraDisableHandler({ writeLimiter }),
    entraDeleteHandler({
      writeLimiter,
      ...(opts.entraDeleteGraceDays !== undefined ? { graceDays: opts.entraDeleteGraceDays } : {}),
    }),
    intuneDeleteHandler(),
    intuneRetireHandler(),
    autopilotUnassignHandler(),
    autopilotDeleteHandler(),
    defenderOffboardHandler(),
  ])
}

const TERMINAL: readonly StepState[] = ['done', 'failed', 'skipped', 'undone']

/**
 * The documented plan order across systems (decisions.md, "The plan"). An act runs every device's steps of one
 * operation together (full `$batch`es) before the next operation, so each device's steps still run in plan order.
 */
const PLAN_ORDER = [
  'intune:delete',
  'intune:retire',
  'intune:wipe',
  'autopilot:unassignUser',
  'autopilot:delete',
  'entra:disable',
  'entra:delete',
  'defender:offboard',
]
const planRank = (s: { system: string; operation: string }): number => {
  const i = PLAN_ORDER.indexOf(handlerKey(s.system, s.operation))
  return i < 0 ? PLAN_ORDER.length : i
}

function registryOf(ctx: Pick<ActContext, 'registry' | 'entraDeleteGraceDays'>): HandlerRegistry {
  return (
    ctx.registry ??
    defaultRegistry(
      ctx.entraDeleteGraceDays !== undefined ? { entraDeleteGraceDays: ctx.entraDeleteGraceDays } : {},
    )
  )
}

/** The policy's name for an opt-in operation: Autopilot's two steps (unassign user, delete) are "deregister" there. */
function optInKey(a: Pick<Action, 'system' | 'operation'>): string {
  return a.system === 'autopilot' ? 'autopilot.deregister' : `${a.system}.${a.operation}`
}

function enabled(a: Action, optIn: readonly string[]): boolean {
  return a.automation === 'agent' || (a.automation === 'optIn' && optIn.includes(optInKey(a)))
}

function notRunNote(a: Action, handler: OperationHandler | undefined, optIn: readonly string[]): string {
  if (a.automation === 'manual') return `manual — ${a.instructions}`
  if (!enabled(a, optIn)) return 'not run by offboard (opt-in not enabled)'
  return handler ? '' : `not run by offboard (no handler for ${handlerKey(a.system, a.operation)})`
}

/**
 * The plan for the tenant's current suggestions (those of its latest completed run), without any call.
 * @throws NotFoundError when the tenant has no completed run, UsageError for unknown suggestion ids.
 */
export async function planAct(store: Store, opts: Omit<ActOptions, 'graph' | 'actor'>): Promise<ActPlan> {
  const { selection } = opts
  if (
    !selection.all &&
    !selection.category &&
    !(selection.suggestionIds && selection.suggestionIds.length > 0)
  )
    throw new UsageError('say what to act on: --suggestion ID…, --category C or --all.')
  const run = await latestCompletedRun(store.db, opts.tenantId)
  if (!run)
    throw new NotFoundError(
      `tenant ${opts.tenantId} has no completed run, so there are no suggestions to act on.`,
      'Run offboard run first.',
    )
  let q = store.db
    .selectFrom('suggestions')
    .select(['id', 'category', 'suggestion'])
    .where('tenant_id', '=', opts.tenantId)
  if (selection.category) q = q.where('category', '=', Category.parse(selection.category))
  if (selection.suggestionIds?.length) q = q.where('id', 'in', [...selection.suggestionIds])
  const rows = await q.orderBy('position').execute()
  const missing = (selection.suggestionIds ?? []).filter((id) => !rows.some((r) => r.id === id))
  if (missing.length)
    throw new UsageError(
      `no current suggestion has the id ${missing.join(', ')}.`,
      "List them with 'offboard suggestions'; ids change only when the device's records do.",
    )
  const registry = registryOf(opts)
  const steps: PlanStep[] = []
  const notRun: PlanStep[] = []
  const seen = new Set<string>()
  const optIn = opts.policy?.optIn ?? []
  for (const row of rows) {
    const s = Suggestion.parse(row.suggestion)
    for (const a of s.actions) {
      const handler = registry.get(a.system, a.operation)
      const runs = enabled(a, optIn) && handler !== undefined
      const key = `${a.system}:${a.operation}:${a.target}`
      // Two suggestions can share a record (duplicates): it is acted on once.
      if (runs && seen.has(key)) continue
      if (runs) seen.add(key)
      const described = runs
        ? handler.describe({ stepId: 0, target: a.target, targetName: a.targetName })
        : null
      const step: PlanStep = {
        position: 0,
        suggestionId: s.id,
        system: a.system,
        operation: a.operation,
        target: a.target,
        targetName: a.targetName,
        automation: a.automation,
        runByOffboard: runs,
        call: described?.call ?? (a.request ? `${a.request.method} ${a.request.path}` : null),
        change: described?.change ?? null,
        note: runs ? null : notRunNote(a, handler, optIn),
        warnings: a.warnings,
      }
      if (runs) steps.push(step)
      else notRun.push({ ...step, position: notRun.length + 1 })
    }
  }
  // Positions are the execution order: by operation in plan order, then by suggestion (a stable sort).
  steps.sort((a, b) => planRank(a) - planRank(b))
  steps.forEach((p, i) => {
    p.position = i + 1
  })
  const fleet = Math.max(1, run.counts?.devices ?? rows.length)
  const maxActions = opts.maxActions ?? DEFAULT_MAX_ACTIONS
  const maxShare = opts.maxShare ?? DEFAULT_MAX_SHARE
  const share = steps.length / fleet
  const exceeded: string[] = []
  if (steps.length > maxActions)
    exceeded.push(`${steps.length} destructive steps exceed the cap of ${maxActions} per run`)
  if (share > maxShare)
    exceeded.push(
      `${steps.length} of ${fleet} devices (${pct(share)}) exceed the cap of ${pct(maxShare)} of the fleet per run`,
    )
  exceeded.push(...(await intuneDailyCapsExceeded(store, opts.tenantId, steps)))
  return {
    tenantId: opts.tenantId,
    runId: run.id,
    suggestions: rows.length,
    steps,
    notRun,
    brakes: { actions: steps.length, maxActions, fleet, share, maxShare, exceeded },
  }
}

/** A step's note with the plan's warnings (a delete that wipes) after it, so the dry run shows them next to the call. */
const withWarnings = (note: string, warnings: readonly string[]): string =>
  warnings.length ? `${note}. Warning: ${warnings.join(' ')}` : note

/** Intune operations of this act that would pass a daily tenant cap, given what offboard did in the last 24 hours. */
async function intuneDailyCapsExceeded(
  store: Store,
  tenantId: string,
  steps: readonly PlanStep[],
): Promise<string[]> {
  const out: string[] = []
  for (const [operation, cap] of Object.entries(INTUNE_DAILY_CAPS)) {
    const planned = steps.filter((p) => p.system === 'intune' && p.operation === operation).length
    if (planned === 0) continue
    const row = await store.db
      .selectFrom('action_steps')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('system', '=', 'intune')
      .where('operation', '=', operation)
      .where('state', 'in', ['sent', 'done'])
      .where('updated_at', '>', new Date(store.clock().getTime() - DAY_MS))
      .executeTakeFirst()
    const already = Number(row?.n ?? 0)
    if (already + planned > cap)
      out.push(
        `${planned} Intune ${operation}s (plus ${already} by offboard in the last 24 hours) pass Intune's daily tenant limit of ${cap.toLocaleString('en-US')} ${operation}s, which also counts the portal and bulk actions`,
      )
  }
  return out
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`

/** The dry run: the plan, each target re-read (GET, no change) to say what would happen. Changes nothing. */
export async function dryRunAct(store: Store, opts: ActOptions): Promise<ActResult> {
  await authorize(store, opts.actor, 'view', { tenantId: opts.tenantId })
  const plan = await planAct(store, opts)
  const registry = registryOf(opts)
  const hctx = handlerContext(opts, store)
  const steps: StepResult[] = []
  for (const group of chunksByHandler(plan.steps, registry)) {
    const targets = group.items.map((p) => ({
      stepId: p.position,
      target: p.target,
      targetName: p.targetName,
    }))
    const seen = await group.handler.verify(hctx, targets)
    for (const p of group.items) {
      const o = seen.get(p.position) ?? { kind: 'error', reason: 'no answer' }
      const base = { stepId: null, suggestionId: p.suggestionId, system: p.system, operation: p.operation }
      const rest = { target: p.target, targetName: p.targetName, after: null }
      if (o.kind === 'gone')
        steps.push({ ...base, ...rest, state: 'wouldSkip', note: 'already gone (404)', before: null })
      else if (o.kind === 'error')
        steps.push({ ...base, ...rest, state: 'wouldFail', note: o.reason, before: null })
      else if (o.alreadyApplied)
        steps.push({ ...base, ...rest, state: 'wouldSkip', note: 'already done', before: o.state })
      else {
        const d = group.handler.describe(
          { stepId: p.position, target: p.target, targetName: p.targetName },
          o.state,
          hctx,
        )
        steps.push({
          ...base,
          ...rest,
          state: d.warning ? 'wouldFail' : 'wouldRun',
          note: d.warning ?? withWarnings(`${d.call}: ${d.change}`, p.warnings),
          before: o.state,
        })
      }
    }
  }
  return {
    actId: null,
    tenantId: plan.tenantId,
    runId: plan.runId,
    dryRun: true,
    steps,
    notRun: plan.notRun,
    brakes: plan.brakes,
    counts: countStates(steps),
  }
}

/**
 * Runs an act: authorises, applies the brakes, writes every step `planned`, then executes.
 * @throws BrakeError before any call when the plan exceeds a cap; ConflictError when an act is unfinished.
 */
export async function startAct(store: Store, opts: ActOptions): Promise<ActResult> {
  await authorize(store, opts.actor, 'disableDevices', { tenantId: opts.tenantId })
  const unfinished = await runningAct(store, opts.tenantId)
  if (unfinished)
    throw new ConflictError(
      `act ${unfinished.id} for tenant ${opts.tenantId} (started ${unfinished.started_at.toISOString()} by ${unfinished.actor}) did not finish.`,
      'Continue it with: offboard act --resume',
    )
  const plan = await planAct(store, opts)
  if (plan.brakes.exceeded.length) {
    await appendAudit(store.db, store.clock(), {
      actor: opts.actor,
      action: 'action.act.start',
      tenantId: opts.tenantId,
      after: { brakes: plan.brakes },
      result: 'refused',
    })
    throw new BrakeError(
      plan.brakes,
      plan.brakes.exceeded.some((e) => e.includes('daily tenant limit'))
        ? "Narrow the selection (--suggestion, --category): Intune's daily limits are the service's own (raised only by Microsoft support); act on the rest tomorrow."
        : 'Narrow the selection (--suggestion, --category), or raise the caps explicitly with --max-actions N and --max-share P.',
    )
  }
  const actId = randomUUID()
  const at = store.clock()
  await store.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('acts')
      .values({
        id: actId,
        tenant_id: opts.tenantId,
        run_id: plan.runId,
        actor: opts.actor,
        status: 'running',
        selection: JSON.stringify(opts.selection),
        options: JSON.stringify({
          brakes: plan.brakes,
          entraDeleteGraceDays: opts.entraDeleteGraceDays ?? DEFAULT_GRACE_DAYS,
          ...(opts.keysExported ? { keysExported: true } : {}),
        }),
        started_at: at,
      })
      .execute()
    // Through insertRows: one INSERT of every step would pass PostgreSQL's 65,535 bind parameters past ~5,900 steps.
    await insertRows(
      store,
      tx,
      'action_steps',
      plan.steps.map((p) => ({
        act_id: actId,
        tenant_id: opts.tenantId,
        position: p.position,
        suggestion_id: p.suggestionId,
        system: p.system,
        operation: p.operation,
        target: p.target,
        target_name: p.targetName,
        state: 'planned' as const,
        created_at: at,
        updated_at: at,
      })),
    )
    await appendAudit(tx, at, {
      actor: opts.actor,
      action: 'action.act.start',
      tenantId: opts.tenantId,
      target: actId,
      after: {
        runId: plan.runId,
        selection: opts.selection,
        steps: plan.steps.length,
        brakes: plan.brakes,
        ...(opts.keysExported ? { keysExportedAcknowledged: true } : {}),
      },
      result: 'ok',
    })
  })
  await opts.onEvent?.({ type: 'planned', actId, steps: plan.steps.length })
  return executeAct(store, actId, opts, plan.notRun)
}

/**
 * Continues the tenant's unfinished act: steps still `planned` run; `sent` ones are re-read first, so a call that
 * took effect before the crash is recorded as done, not repeated.
 * @throws NotFoundError when no act is unfinished.
 */
export async function resumeAct(store: Store, ctx: ActContext): Promise<ActResult> {
  await authorize(store, ctx.actor, 'disableDevices', { tenantId: ctx.tenantId })
  const act = await runningAct(store, ctx.tenantId)
  if (!act) throw new NotFoundError(`tenant ${ctx.tenantId} has no unfinished act to resume.`)
  // The act continues under the conditions it was started with.
  const kept = (act.options ?? {}) as { entraDeleteGraceDays?: number; keysExported?: boolean }
  return executeAct(
    store,
    act.id,
    {
      ...ctx,
      ...(kept.entraDeleteGraceDays !== undefined ? { entraDeleteGraceDays: kept.entraDeleteGraceDays } : {}),
      ...(kept.keysExported ? { keysExported: true } : {}),
    },
    [],
  )
}

async function runningAct(store: Store, tenantId: string) {
  return store.db
    .selectFrom('acts')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'running')
    .executeTakeFirst()
}

/** What the store knows about earlier acts and key exports of the tenant, for Entra delete's conditions. */
function historyOf(store: Store, tenantId: string): ActHistory {
  return {
    async disabledAt(objectId) {
      const row = await store.db
        .selectFrom('action_steps')
        .select('updated_at')
        .where('tenant_id', '=', tenantId)
        .where('system', '=', 'entra')
        .where('operation', '=', 'disable')
        .where('target', '=', objectId)
        .where('state', '=', 'done')
        .orderBy('updated_at', 'desc')
        .executeTakeFirst()
      return row?.updated_at ?? null
    },
    keysExportedAt: (objectId) => keysExportedAt(store, tenantId, objectId),
  }
}

function handlerContext(ctx: ActContext, store: Store): HandlerContext {
  return {
    history: historyOf(store, ctx.tenantId),
    ...(ctx.keysExported ? { keysExportedAcknowledged: true } : {}),
    graph: ctx.graph,
    ...(ctx.defender ? { defender: ctx.defender } : {}),
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    ...(ctx.now ? { now: ctx.now } : {}),
    ...(ctx.delegated ? { delegated: true } : {}),
  }
}

/** Consecutive runs of at most BATCH_SIZE items with the same handler, keeping plan order. */
function chunksByHandler<T extends { system: string; operation: string }>(
  items: readonly T[],
  registry: HandlerRegistry,
): { handler: OperationHandler; items: T[] }[] {
  const out: { handler: OperationHandler; items: T[] }[] = []
  for (const item of items) {
    const handler = registry.get(item.system, item.operation)
    if (!handler) continue
    const last = out.at(-1)
    if (last && last.handler === handler && last.items.length < BATCH_SIZE) last.items.push(item)
    else out.push({ handler, items: [item] })
  }
  return out
}

type StepRow = Selectable<ActionStepsTable>

async function executeAct(
  store: Store,
  actId: string,
  ctx: ActContext,
  notRun: PlanStep[],
): Promise<ActResult> {
  const registry = registryOf(ctx)
  const hctx = handlerContext(ctx, store)
  const act = await store.db.selectFrom('acts').selectAll().where('id', '=', actId).executeTakeFirstOrThrow()
  const all = await stepsOf(store, actId)
  const total = all.length
  let finished = all.filter((s) => TERMINAL.includes(s.state as StepState)).length
  const open = all.filter((s) => s.state === 'planned' || s.state === 'sent')
  const openByOperation: Record<string, number> = {}
  for (const s of open) {
    const key = handlerKey(s.system, s.operation)
    openByOperation[key] = (openByOperation[key] ?? 0) + 1
  }
  await ctx.onEvent?.({ type: 'started', actId, open: openByOperation, done: finished, total })
  // Suggestions (devices) with a failed step: their later steps wait, so an Entra object is not disabled while its
  // Intune record, say, is still there (decisions.md, "The plan": the order matters).
  const failedDevices = new Set(all.filter((s) => s.state === 'failed').map((s) => s.suggestion_id))
  const finish = async (
    row: StepRow,
    state: StepState,
    fields: { before?: unknown; after?: unknown; error?: string | null },
  ) => {
    const result: AuditResult = state === 'failed' ? 'failed' : 'ok'
    if (state === 'failed') failedDevices.add(row.suggestion_id)
    await recordStep(
      store,
      ctx.actor,
      row,
      {
        state,
        ...(fields.before !== undefined ? { before: JSON.stringify(fields.before) } : {}),
        ...(fields.after !== undefined ? { after: JSON.stringify(fields.after) } : {}),
        error: fields.error ?? null,
      },
      {
        operation: row.operation,
        before: fields.before ?? row.before ?? null,
        after: { state, ...(fields.error ? { error: fields.error } : {}), value: fields.after ?? null },
        result,
      },
    )
    finished++
    await ctx.onEvent?.({ type: 'finished', actId, stepId: row.id, state, done: finished, total })
  }
  for (const chunk of chunksByHandler(open, registry)) {
    const group = { handler: chunk.handler, items: [] as StepRow[] }
    for (const row of chunk.items)
      if (failedDevices.has(row.suggestion_id))
        await finish(row, 'skipped', { error: 'not run: an earlier step for this device failed' })
      else group.items.push(row)
    if (group.items.length === 0) continue
    const targets = group.items.map(targetOf)
    const seen = await group.handler.verify(hctx, targets)
    const toSend: (StepRow & { observed: Record<string, unknown> })[] = []
    for (const row of group.items) {
      const o: Observation = seen.get(row.id) ?? {
        kind: 'error',
        reason: 'no answer when reading the target',
      }
      if (o.kind === 'gone') {
        // A delete sent before a crash that took effect leaves a 404 behind: that is this act's work, done.
        if (row.state === 'sent' && group.handler.removesTarget)
          await finish(row, 'done', { after: { deleted: true } })
        else await finish(row, 'skipped', { error: 'already gone (404)' })
      } else if (o.kind === 'error') await finish(row, 'failed', { error: o.reason })
      else if (o.alreadyApplied) {
        // A `sent` step whose call took effect before a crash is ours and done; a `planned` one was done by someone else.
        if (row.state === 'sent') await finish(row, 'done', { after: o.state })
        else
          await finish(row, 'skipped', {
            before: o.state,
            after: o.state,
            error: 'already done before this act',
          })
      } else toSend.push({ ...row, observed: o.state })
    }
    if (toSend.length === 0) continue
    const ids = toSend.map((r) => r.id)
    await store.db.transaction().execute(async (tx) => {
      for (const r of toSend)
        await tx
          .updateTable('action_steps')
          .set({
            state: 'sent',
            // The first observation is the true "before": a re-send after a crash must not overwrite it.
            before: JSON.stringify(r.before ?? r.observed),
            attempt: r.attempt + 1,
            updated_at: store.clock(),
          })
          .where('id', '=', r.id)
          .execute()
    })
    await ctx.onEvent?.({ type: 'sent', actId, stepIds: ids })
    const outcomes = await group.handler.execute(
      hctx,
      toSend.map((r) => ({ ...targetOf(r), before: r.observed })),
    )
    await ctx.onEvent?.({ type: 'response', actId, stepIds: ids })
    for (const r of toSend) {
      const out: StepOutcome = outcomes.get(r.id) ?? { kind: 'failed', reason: 'no outcome', status: null }
      const before = r.before ?? r.observed
      if (out.kind === 'done') await finish(r, 'done', { before, after: out.after })
      else if (out.kind === 'gone') await finish(r, 'skipped', { before, error: 'already gone (404)' })
      else await finish(r, 'failed', { before, error: out.reason })
    }
  }
  await followUp(store, actId, ctx, registry, hctx)
  const rows = await stepsOf(store, actId)
  const steps = rows.map(toStepResult)
  const counts = countStates(steps)
  await store.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('acts')
      .set({ status: 'completed', finished_at: store.clock() })
      .where('id', '=', actId)
      .execute()
    await appendAudit(tx, store.clock(), {
      actor: ctx.actor,
      action: 'action.act.finish',
      tenantId: act.tenant_id,
      target: actId,
      after: counts,
      result: (counts.failed ?? 0) > 0 ? 'failed' : 'ok',
    })
  })
  const brakes = (act.options as { brakes?: Brakes } | null)?.brakes
  return {
    actId,
    tenantId: act.tenant_id,
    runId: act.run_id,
    dryRun: false,
    steps,
    notRun,
    brakes: brakes ?? { actions: total, maxActions: 0, fleet: 0, share: 0, maxShare: 0, exceeded: [] },
    counts,
  }
}

/**
 * Follows the asynchronous work of done steps (Defender MachineActions) until it ends or the handler stops waiting;
 * a failed end fails the step, and every result is recorded. Runs again on --resume for what is still underway.
 */
async function followUp(
  store: Store,
  actId: string,
  ctx: ActContext,
  registry: HandlerRegistry,
  hctx: HandlerContext,
): Promise<void> {
  const done = (await stepsOf(store, actId)).filter((r) => r.state === 'done')
  const groups = new Map<OperationHandler, StepRow[]>()
  for (const row of done) {
    const handler = registry.get(row.system, row.operation)
    if (!handler?.follow) continue
    groups.set(handler, [...(groups.get(handler) ?? []), row])
  }
  for (const [handler, rows] of groups) {
    await ctx.onEvent?.({ type: 'following', actId, steps: rows.length })
    const results = await handler.follow!(
      hctx,
      rows.map((r) => ({ ...targetOf(r), after: (r.after ?? {}) as Record<string, unknown> })),
    )
    for (const row of rows) {
      const r = results.get(row.id)
      if (!r) continue
      const state: StepState = r.kind === 'failed' ? 'failed' : 'done'
      const note = r.kind === 'succeeded' ? null : r.reason
      await recordStep(
        store,
        ctx.actor,
        row,
        { state, after: JSON.stringify(r.after), error: note },
        {
          operation: `${row.operation}.result`,
          before: row.after ?? null,
          after: { state, result: r.kind, value: r.after, ...(note ? { note } : {}) },
          result: r.kind === 'failed' ? 'failed' : 'ok',
        },
      )
    }
  }
}

/**
 * A step's new state and its audit entry, in one transaction, so the log and the store never disagree. The entry's
 * `after` always names the step and its act; `set` null records the entry alone (an undo that changed nothing).
 */
async function recordStep(
  store: Store,
  actor: string,
  row: StepRow,
  set: Omit<Updateable<ActionStepsTable>, 'updated_at'> | null,
  audit: {
    operation: string
    before: unknown
    after: { state: string } & Record<string, unknown>
    result: AuditResult
  },
): Promise<void> {
  const { state, ...rest } = audit.after
  await store.db.transaction().execute(async (tx) => {
    if (set)
      await tx
        .updateTable('action_steps')
        .set({ ...set, updated_at: store.clock() })
        .where('id', '=', row.id)
        .execute()
    await recordDeviceAction(
      { ...store, db: tx },
      {
        actor,
        tenantId: row.tenant_id,
        system: row.system,
        operation: audit.operation,
        target: row.target,
        before: audit.before,
        after: { state, step: row.id, act: row.act_id, ...rest },
        result: audit.result,
      },
    )
  })
}

function targetOf(r: StepRow): StepTarget {
  return { stepId: r.id, target: r.target, targetName: r.target_name }
}

async function stepsOf(store: Store, actId: string): Promise<StepRow[]> {
  return store.db
    .selectFrom('action_steps')
    .selectAll()
    .where('act_id', '=', actId)
    .orderBy('position')
    .execute()
}

function toStepResult(r: StepRow): StepResult {
  return {
    stepId: r.id,
    suggestionId: r.suggestion_id,
    system: r.system,
    operation: r.operation,
    target: r.target,
    targetName: r.target_name,
    state: r.state as StepState,
    note: r.error,
    before: r.before ?? null,
    after: r.after ?? null,
  }
}

function countStates(steps: readonly StepResult[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const s of steps) counts[s.state] = (counts[s.state] ?? 0) + 1
  return counts
}

/** The steps of an act, for `act --resume` listings and tests. */
export async function listSteps(store: Store, actId: string): Promise<StepResult[]> {
  return (await stepsOf(store, actId)).map(toStepResult)
}

export interface UndoResult {
  stepId: number
  target: string
  state: 'undone' | 'notNeeded' | 'gone' | 'failed'
  note: string | null
}

/**
 * Reverses done steps: one step by its numeric id, or every done step of an act by the act id. A step is reversed
 * only while the record is still as the act left it (disabled); each undo is audited.
 */
export async function undoAction(store: Store, ctx: ActContext & { id: string }): Promise<UndoResult[]> {
  await authorize(store, ctx.actor, 'disableDevices', { tenantId: ctx.tenantId })
  let q = store.db.selectFrom('action_steps').selectAll().where('tenant_id', '=', ctx.tenantId)
  q = /^\d+$/.test(ctx.id) ? q.where('id', '=', Number(ctx.id)) : q.where('act_id', '=', ctx.id)
  const rows = await q.orderBy('position').execute()
  if (rows.length === 0)
    throw new NotFoundError(`no action step or act ${ctx.id} for tenant ${ctx.tenantId}.`)
  const registry = registryOf(ctx)
  const hctx = handlerContext(ctx, store)
  const results: UndoResult[] = []
  for (const row of rows) {
    if (row.state !== 'done') {
      if (rows.length === 1)
        results.push({
          stepId: row.id,
          target: row.target,
          state: 'notNeeded',
          note: `the step is ${row.state}, not done.`,
        })
      continue
    }
    const handler = registry.get(row.system, row.operation)
    if (!handler?.undo) {
      results.push({
        stepId: row.id,
        target: row.target,
        state: 'failed',
        note: `${row.system} ${row.operation} cannot be undone.`,
      })
      continue
    }
    const out = await handler.undo(hctx, targetOf(row))
    const state: UndoResult['state'] = out.kind === 'done' ? 'undone' : out.kind
    const note =
      out.kind === 'failed'
        ? out.reason
        : out.kind === 'notNeeded'
          ? out.reason
          : out.kind === 'gone'
            ? 'the record is gone (404).'
            : null
    await recordStep(store, ctx.actor, row, out.kind === 'done' ? { state: 'undone' } : null, {
      operation: `${row.operation}.undo`,
      before: row.after ?? null,
      after: { state, ...(out.kind === 'done' ? { value: out.after } : {}), note },
      result: out.kind === 'failed' ? 'failed' : out.kind === 'done' ? 'ok' : 'refused',
    })
    results.push({ stepId: row.id, target: row.target, state, note })
  }
  return results
}
