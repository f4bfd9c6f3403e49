/**
 * @module MCP tool `disable_devices`: disable the Entra device objects of current suggestions through the executor
 * of `offboard act`. Without `confirm` it is the dry run and returns a dryRunId; with `confirm: true` it needs that
 * id, for the same selection, and runs only the suggestions the dry run showed, only if their plan is unchanged.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { ConflictError } from '../../agent/errors.js'
import { authorize } from '../../agent/roles.js'
import { latestCompletedRun } from '../../agent/runs.js'
import { Category } from '../../domain/report.js'
import { UsageError } from '../../lib/errors.js'
import { jsonResult, type McpContext, withTenant } from '../context.js'
import type { Guard } from './guard.js'

type Executor = typeof import('../../actions/executor.js')
type StepResult = import('../../actions/executor.js').StepResult
type ActResult = import('../../actions/executor.js').ActResult
type ActSelection = import('../../actions/executor.js').ActSelection

/** The executor loads with the handlers only when a disable is asked for. */
const executor = (): Promise<Executor> => import('../../actions/executor.js')

/** One `$in` list of suggestion ids per call; enough for any review a person can read. */
export const MAX_SELECTED = 500

const inputSchema = {
  suggestionIds: z
    .array(z.string().trim().min(1).max(200))
    .min(1)
    .max(MAX_SELECTED)
    .optional()
    .describe(
      'disable the devices of these current suggestions (exact ids, as query_suggestions lists them)',
    ),
  category: Category.optional().describe('or: every current suggestion of this category'),
  all: z.literal(true).optional().describe('or: every current suggestion'),
  maxActions: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('cap on destructive steps in this act (default 100), as offboard act --max-actions'),
  maxSharePercent: z
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe('cap on the share of the fleet touched, in percent (default 10), as offboard act --max-share'),
  confirm: z
    .boolean()
    .optional()
    .describe('true makes the changes; it needs dryRunId. Without it nothing changes (dry run).'),
  dryRunId: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('with confirm: the dryRunId of a dry run of exactly the same selection and caps'),
}

interface Args {
  suggestionIds?: string[] | undefined
  category?: Category | undefined
  all?: true | undefined
  maxActions?: number | undefined
  maxSharePercent?: number | undefined
  confirm?: boolean | undefined
  dryRunId?: string | undefined
}

/** @throws UsageError unless exactly one way of selecting is given. */
function selectionOf(args: Args): ActSelection {
  const given = [args.suggestionIds ? 1 : 0, args.category ? 1 : 0, args.all ? 1 : 0].reduce((a, b) => a + b)
  if (given !== 1)
    throw new UsageError(
      'say what to disable with exactly one of suggestionIds, category or all: true.',
      'List the current suggestions with query_suggestions.',
    )
  if (args.suggestionIds) return { suggestionIds: [...new Set(args.suggestionIds)].sort() }
  if (args.category) return { category: args.category }
  return { all: true }
}

function limitsOf(args: Args): { maxActions?: number; maxShare?: number } {
  return {
    ...(args.maxActions !== undefined ? { maxActions: args.maxActions } : {}),
    ...(args.maxSharePercent !== undefined ? { maxShare: args.maxSharePercent / 100 } : {}),
  }
}

const stepKey = (s: { system: string; operation: string; target: string }) =>
  `${s.system}:${s.operation}:${s.target}`

function stepView(s: StepResult) {
  return {
    stepId: s.stepId,
    suggestionId: s.suggestionId,
    device: s.targetName,
    system: s.system,
    operation: s.operation,
    target: s.target,
    state: s.state,
    note: s.note,
  }
}

function actView(r: ActResult) {
  return {
    tenantId: r.tenantId,
    runId: r.runId,
    counts: r.counts,
    brakes: r.brakes,
    steps: r.steps.map(stepView),
    // Only the Entra disable runs here; the rest of each plan is for the admin (see explain_device).
    notRunByOffboard: r.notRun.length,
  }
}

export function registerDisableDevicesTool(server: McpServer, ctx: McpContext, guard: Guard): void {
  server.registerTool(
    'disable_devices',
    {
      title: 'Disable Entra device objects (dry run first)',
      description:
        'Disables the Entra device objects of current suggestions, as offboard act does (the only step offboard ' +
        'runs itself; the other steps of each plan stay with the admin). Two calls: first WITHOUT confirm — a dry ' +
        'run that re-reads every target, changes nothing and returns a dryRunId; show it to the person and ask. ' +
        'Then, only if they agree, the same selection again with confirm: true and that dryRunId. A dryRunId is ' +
        'single-use, expires after 15 minutes, and is refused if the suggestions changed since. Needs the actor or ' +
        'admin role; every change is audited and can be undone with offboard undo ACT_ID.',
      inputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (args) =>
      guard('disable_devices', async () => {
        const selection = selectionOf(args)
        const limits = limitsOf(args)
        const key = JSON.stringify({ ...selection, ...limits })
        const ex = await executor()
        return withTenant(ctx, async (store, tenantId) => {
          const actor = ctx.actor
          if (!args.confirm) {
            if (args.dryRunId !== undefined)
              throw new UsageError(
                'dryRunId goes with confirm: true; without confirm this call is a dry run.',
              )
            // The dry run of `offboard act` only needs to view; here it leads to a disable, so a reader is told now.
            await authorize(store, actor, 'disableDevices', { tenantId })
            const dry = await ex.dryRunAct(store, {
              tenantId,
              actor,
              graph: await ctx.connect(),
              selection,
              ...limits,
            })
            const wouldRun = dry.steps.filter((s) => s.state === 'wouldRun').length
            let issued: { dryRunId: string; expiresAt: Date } | null = null
            let next: string
            if (dry.brakes.exceeded.length)
              next = `A confirmation would be refused: ${dry.brakes.exceeded.join('; ')}. Narrow the selection, or raise maxActions / maxSharePercent explicitly.`
            else if (wouldRun === 0) next = 'Nothing would change, so there is nothing to confirm.'
            else {
              issued = ctx.dryRuns.issue({
                tenantId,
                actor,
                runId: dry.runId,
                selection: key,
                suggestionIds: [...new Set(dry.steps.map((s) => s.suggestionId))].sort(),
                steps: dry.steps.map(stepKey).sort(),
              })
              next = `To disable these ${wouldRun} device object${wouldRun === 1 ? '' : 's'}, call disable_devices again with the same selection, confirm: true and dryRunId "${issued.dryRunId}" (valid until ${issued.expiresAt.toISOString()}). Ask the person first.`
            }
            return jsonResult(
              {
                dryRun: true,
                dryRunId: issued?.dryRunId ?? null,
                expiresAt: issued?.expiresAt ?? null,
                next,
                ...actView(dry),
              },
              `Dry run for tenant ${tenantId}: nothing was changed. ${next}`,
            )
          }
          if (args.dryRunId === undefined)
            throw new UsageError(
              'confirm: true needs the dryRunId of a dry run of the same selection: a disable is never made without one.',
              'Call disable_devices without confirm first, show the dry run, then confirm with its dryRunId.',
            )
          const shown = ctx.dryRuns.take(args.dryRunId, { tenantId, actor, selection: key })
          await authorize(store, actor, 'disableDevices', { tenantId })
          const changed = (why: string) =>
            new ConflictError(
              `the tenant's suggestions changed since dry run ${args.dryRunId} (${why}); nothing was changed.`,
              'Call disable_devices without confirm for a new dry run and check it again.',
            )
          const latest = await latestCompletedRun(store.db, tenantId)
          if (latest?.id !== shown.runId)
            throw changed(`run ${shown.runId} was replaced by ${latest?.id ?? 'none'}`)
          // Exactly the suggestions the dry run showed: a device added to a category since is not swept in.
          const chosen: ActSelection = { suggestionIds: shown.suggestionIds }
          const plan = await ex.planAct(store, { tenantId, selection: chosen, ...limits })
          const now = plan.steps.map(stepKey).sort()
          if (now.join('\n') !== shown.steps.join('\n')) throw changed('the planned steps differ')
          const result = await ex.startAct(store, {
            tenantId,
            actor,
            graph: await ctx.connect(),
            selection: chosen,
            ...limits,
          })
          const failed = result.counts.failed ?? 0
          const lead =
            `Act ${result.actId} for tenant ${tenantId}: ${
              Object.entries(result.counts)
                .map(([k, v]) => `${v} ${k}`)
                .join(', ') || 'nothing to do'
            }.` +
            (failed ? ' Some steps failed; the note of each says why.' : '') +
            ((result.counts.done ?? 0) > 0 ? ` Undo with: offboard undo ${result.actId}` : '')
          return jsonResult({ dryRun: false, actId: result.actId, ...actView(result) }, lead)
        })
      }),
  )
}
