/**
 * @module `offboard act` and `offboard undo`: disable the Entra device objects of the current suggestions. A dry run
 * first (nothing changes without --confirm), brakes on how much one act may touch, a write-ahead log so `--resume`
 * continues a killed act without repeating or skipping a call, and undo by step or act id.
 */
import { type Command, Option } from 'commander'
import { formatOption, type OutputFormat, outputFormat, tenantOption, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, resolveTenant, storeOpener, withStore } from '../../agent/context.js'
import { renderJson, renderTable } from '../../agent/format.js'
import { Category } from '../../domain/report.js'
import { ConfigError, SourceError, UsageError } from '../../lib/errors.js'
import type { ApiClient } from '../../lib/graph-client.js'
import { sanitizeText as clean } from '../../report/sanitize.js'

type Executor = typeof import('../../actions/executor.js')
type ActResult = import('../../actions/executor.js').ActResult
type ActEvent = import('../../actions/executor.js').ActEvent
type UndoResult = import('../../actions/executor.js').UndoResult

export interface ActDeps extends CommandDeps {
  /** The Graph client for the tenant; default: sign in from the OFFBOARD_* configuration. */
  connect?: (env: NodeJS.ProcessEnv) => Promise<ApiClient>
  /** The Defender client for an enabled `defender.offboard`; default: with `connect` unset, from the configuration. */
  connectDefender?: (env: NodeJS.ProcessEnv) => Promise<ApiClient>
  /** Called after every durable step (tests crash the process here). */
  onEvent?: (e: ActEvent) => void | Promise<void>
  /** Where the exit code for per-device failures goes; default process.exitCode. */
  setExitCode?: (code: number) => void
  /** Progress on stderr; default: when stderr is a terminal and the format is table. */
  progress?: boolean
}

interface ActOptions {
  suggestion?: string[]
  category?: Category
  all?: boolean
  confirm?: boolean
  resume?: boolean
  maxActions?: number
  maxShare?: number
  policy?: string
  keysExported?: boolean
  tenant?: string
  format?: OutputFormat
  quiet?: boolean
}

const executor = (): Promise<Executor> => import('../../actions/executor.js')

/** Signs in as the tenant configuration says (OFFBOARD_* variables or offboard.config.json): live tenant or simulator. */
export async function connectFromConfig(env: NodeJS.ProcessEnv): Promise<ApiClient> {
  return (await clientsFromConfig(env)).graph
}

async function clientsFromConfig(
  env: NodeJS.ProcessEnv,
): Promise<{ graph: ApiClient; defender: ApiClient; delegated: boolean }> {
  const { loadTenantConfig } = await import('../../lib/config.js')
  const config = await loadTenantConfig(undefined, env)
  if (!config)
    throw new ConfigError(
      'no tenant is configured, so offboard cannot reach Microsoft Graph.',
      'Set OFFBOARD_TENANT_ID and OFFBOARD_CLIENT_ID (and a secret, certificate, or OFFBOARD_AUTH=deviceCode); see "Live tenant" in the README.',
    )
  const { connectTenant } = await import('../tenant.js')
  const { clients, delegated } = await connectTenant(config)
  return { ...clients, delegated }
}

function parseCount(label: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`${label} must be a whole number ≥ 0, got "${value}".`)
    return n
  }
}

/** A share of the fleet in percent ("25", "25%", "2.5"), returned as 0..1. */
export function parseShare(value: string): number {
  const n = Number(value.trim().replace(/%$/, ''))
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new UsageError(`--max-share must be a percentage between 0 and 100, got "${value}".`)
  return n / 100
}

export function registerAct(program: Command, deps: ActDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const env = deps.env ?? process.env
  // One sign-in for both clients when neither is injected.
  const connectBoth = async (
    e: NodeJS.ProcessEnv,
  ): Promise<{ graph: ApiClient; defender?: ApiClient | undefined; delegated?: boolean }> => {
    if (!deps.connect) return clientsFromConfig(e)
    return { graph: await deps.connect(e), defender: await deps.connectDefender?.(e) }
  }
  const setExitCode =
    deps.setExitCode ??
    ((code: number) => {
      process.exitCode = code
    })

  program
    .command('act')
    .summary(
      "carry out the current suggestions: disable Entra objects, plus the policy's opt-in steps (dry run unless --confirm)",
    )
    .description(
      'Shows which objects, which calls and what will change; nothing changes without --confirm. Only the steps ' +
        'offboard runs itself (Entra disable, and the opt-in operations --policy enables) are executed; the rest are listed. Each ' +
        'step is written to the store before and after its call, so --resume continues a killed act without ' +
        'repeating or skipping a call. Undo with offboard undo ACTION_ID.',
    )
    .option('--suggestion <id...>', 'act on these suggestions')
    .addOption(
      new Option('--category <category>', 'act on every suggestion of this category').choices(
        Category.options,
      ),
    )
    .option('--all', 'act on every current suggestion')
    .option('--confirm', 'make the changes (without it: dry run)')
    .option('--resume', 'continue the unfinished act of the tenant')
    .option(
      '--max-actions <n>',
      'cap on destructive steps in this act (default 100)',
      parseCount('--max-actions'),
    )
    .option('--max-share <percent>', 'cap on the share of the fleet touched (default 10)', parseShare)
    .option('--policy <file>', 'the tenant policy (JSON); its optIn list enables opt-in operations')
    .option(
      '--keys-exported',
      "for entra.delete: the BitLocker recovery keys were saved outside offboard (else 'offboard keys export' must have saved them)",
    )
    .option('-q, --quiet', 'no progress output')
    .addOption(tenantOption())
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Examples:
  offboard act --category stale --policy policy.json   dry run, with the policy's opt-in operations
  offboard act --category stale                   dry run: what would be disabled
  offboard act --category stale --confirm         disable them
  offboard act --resume                           continue an act that was interrupted
  offboard act --all --confirm --max-actions 500 --max-share 25 --format json
  offboard keys export -o keys.json && offboard act --category stale --policy policy.json --confirm
                                                  with "entra.delete" opted in: keys saved first

Opt-in operations (the policy's optIn list) run in the plan's order: intune.delete / intune.retire,
autopilot.deregister (after Intune is confirmed gone), the Entra disable, entra.delete (only objects offboard
disabled more than entraDeleteGraceDays ago, never Autopilot ones, keys exported), defender.offboard (followed
until its MachineAction ends). Intune's daily limits (delete 1,000, retire 1,000, wipe 500) are brakes.`,
    )
    .action((opts: ActOptions) =>
      withStore(open, async (store) => {
        const selections = [opts.suggestion?.length ? 1 : 0, opts.category ? 1 : 0, opts.all ? 1 : 0].reduce(
          (a, b) => a + b,
        )
        if (opts.resume && selections > 0)
          throw new UsageError('--resume continues the unfinished act as planned; it takes no selection.')
        if (!opts.resume && selections !== 1)
          throw new UsageError('say what to act on with one of --suggestion ID…, --category C or --all.')
        const format = outputFormat(opts.format)
        const tenantId = await resolveTenant(store, opts.tenant, env)
        const actor = actorOf(deps)
        const ex = await executor()
        const { loadPolicy } = await import('../load-policy.js')
        const policy = await loadPolicy(opts.policy)
        const { graph, defender, delegated } = await connectBoth(env)
        const tty = process.stderr.isTTY === true
        // JSON output is for scripts: progress only when asked for; a table run always shows it (plain off a terminal).
        const showProgress = !opts.quiet && (deps.progress ?? format === 'table')
        const progress = progressBar(showProgress && (opts.confirm === true || opts.resume === true), tty)
        const onEvent = async (e: ActEvent) => {
          progress(e)
          await deps.onEvent?.(e)
        }
        const ctx = { tenantId, actor, graph, ...(defender ? { defender } : {}), onEvent, delegated }
        // Entra delete's conditions come with a new act; --resume keeps those the act started with.
        const conditions = {
          entraDeleteGraceDays: policy.entraDeleteGraceDays,
          ...(opts.keysExported ? { keysExported: true } : {}),
        }
        const selection = {
          ...(opts.suggestion?.length ? { suggestionIds: opts.suggestion } : {}),
          ...(opts.category ? { category: opts.category } : {}),
          ...(opts.all ? { all: true } : {}),
        }
        const limits = {
          ...(opts.maxActions !== undefined ? { maxActions: opts.maxActions } : {}),
          ...(opts.maxShare !== undefined ? { maxShare: opts.maxShare } : {}),
        }
        let result: ActResult
        try {
          if (opts.resume) result = await ex.resumeAct(store, ctx)
          else if (opts.confirm)
            result = await ex.startAct(store, { ...ctx, ...conditions, selection, policy, ...limits })
          else result = await ex.dryRunAct(store, { ...ctx, ...conditions, selection, policy, ...limits })
        } catch (err) {
          // A call that failed outright (network, sign-in) leaves the act unfinished in the store, to be continued.
          if ((opts.confirm || opts.resume) && err instanceof SourceError)
            process.stderr.write(
              'offboard: the act stopped before it finished; continue it with: offboard act --resume\n',
            )
          throw err
        } finally {
          progress(null)
        }
        await write(format === 'json' ? renderJson(result) : renderAct(result))
        if ((result.counts.failed ?? 0) > 0) setExitCode(1)
      }),
    )
}

export function registerUndo(program: Command, deps: ActDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const env = deps.env ?? process.env
  // A signed-in user (delegated) gets the user's-role explanation on a 403, as in offboard act.
  const connect = async (e: NodeJS.ProcessEnv): Promise<{ graph: ApiClient; delegated: boolean }> =>
    deps.connect ? { graph: await deps.connect(e), delegated: false } : clientsFromConfig(e)
  const setExitCode =
    deps.setExitCode ??
    ((code: number) => {
      process.exitCode = code
    })
  program
    .command('undo')
    .summary('re-enable what an act disabled: one step by its number, or a whole act by its id')
    .argument('<action-id>', 'a step number or an act id, as `offboard act` printed them')
    .addOption(tenantOption())
    .addOption(formatOption())
    .action((id: string, opts: { tenant?: string; format?: OutputFormat }) =>
      withStore(open, async (store) => {
        const tenantId = await resolveTenant(store, opts.tenant, env)
        const ex = await executor()
        const { graph, delegated } = await connect(env)
        const results = await ex.undoAction(store, { tenantId, actor: actorOf(deps), graph, id, delegated })
        await write(outputFormat(opts.format) === 'json' ? renderJson(results) : renderUndo(results))
        if (results.some((r) => r.state === 'failed')) setExitCode(1)
      }),
    )
}

/**
 * Defender calls per offboarded machine: one POST, plus a machine listing and an action listing per 20 machines.
 * Its limits (100/min, 1,500/h) pace long acts, so the ETA is never shorter than they allow.
 */
const DEFENDER_CALLS_PER_MACHINE = 1.1

/** The shortest time Defender's limits allow for `machines` offboards, in seconds. */
export function defenderFloorSeconds(machines: number): number {
  const calls = Math.ceil(machines * DEFENDER_CALLS_PER_MACHINE)
  // Each hour's 1,500 calls go out at 100 a minute (the first 100 at once); the next hour's wait for the window.
  const hours = Math.floor((calls - 1) / 1_500)
  const rest = calls - hours * 1_500
  return hours * 3_600 + (Math.max(0, rest - 100) / 100) * 60
}

const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s < 90) return `${s} s`
  if (s < 5_400) return `${Math.round(s / 60)} min`
  return `${Math.floor(s / 3_600)} h ${Math.round((s % 3_600) / 60)} min`
}

/**
 * Progress on stderr: on a terminal one line redrawn per finished step (count, rate, ETA); elsewhere (logs, CI) a
 * plain line at most every 10 seconds. `null` ends it.
 */
function progressBar(enabled: boolean, tty: boolean): (e: ActEvent | null) => void {
  let started = 0
  let first = -1
  let drawn = false
  let lastPlain = 0
  let defenderLeft = 0
  return (e) => {
    if (!enabled) return
    if (e === null) {
      if (drawn && tty) process.stderr.write('\n')
      return
    }
    if (e.type === 'started') {
      defenderLeft = e.open['defender:offboard'] ?? 0
      if (defenderLeft > 100)
        process.stderr.write(
          `offboard: ${defenderLeft} Defender offboards: its limits (100 calls/min, 1,500/h) make this take at least ${duration(defenderFloorSeconds(defenderLeft))}.\n`,
        )
      return
    }
    if (e.type === 'following') {
      process.stderr.write(
        `${tty && drawn ? '\n' : ''}offboard: following ${e.steps} asynchronous operation(s) until they finish…\n`,
      )
      drawn = false
      return
    }
    if (e.type !== 'finished') return
    if (first < 0) {
      started = performance.now()
      first = e.done - 1
    }
    const seconds = (performance.now() - started) / 1000
    const rate = seconds > 0.5 ? (e.done - first) / seconds : 0
    const width = 30
    const filled = Math.round((e.done / Math.max(1, e.total)) * width)
    let line = `  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${e.done}/${e.total}`
    if (rate) {
      const eta = Math.max((e.total - e.done) / rate, defenderFloorSeconds(defenderLeft) - seconds)
      line += `, ${rate.toFixed(1)}/s, ETA ${duration(eta)}`
    }
    if (tty) {
      process.stderr.write(`\r\u001b[2K${line}`)
      drawn = true
    } else if (performance.now() - lastPlain > 10_000 || e.done === e.total) {
      lastPlain = performance.now()
      process.stderr.write(`${line.trim()}\n`)
    }
  }
}

export function renderAct(r: ActResult): string {
  const out: string[] = []
  out.push(
    r.dryRun
      ? `Dry run for tenant ${r.tenantId} (suggestions of run ${r.runId}): nothing was changed.\n`
      : `Act ${r.actId} for tenant ${r.tenantId} (suggestions of run ${r.runId}).\n`,
  )
  out.push(
    renderTable(
      ['step', 'device', 'system', 'operation', 'target', 'state', 'detail'],
      r.steps.map((s) => [
        s.stepId ?? '',
        clean(s.targetName ?? ''),
        s.system,
        s.operation,
        s.target,
        s.state,
        clean(s.note ?? ''),
      ]),
      '(no step for offboard to run)',
    ),
  )
  // The table clips long cells; a failure's reason (the role or permission to grant) must be read in full.
  const failures = r.steps.filter((s) => s.state === 'failed' || s.state === 'wouldFail')
  if (failures.length) {
    out.push(r.dryRun ? '\nWould fail:\n' : '\nFailed:\n')
    for (const s of failures)
      out.push(`  ${clean(s.targetName ?? s.target)} (${s.target}): ${clean(s.note ?? '')}\n`)
  }
  if (r.notRun.length) {
    out.push('\nNot run by offboard:\n')
    out.push(
      renderTable(
        ['device', 'system', 'operation', 'target', 'why'],
        r.notRun.map((s) => [
          clean(s.targetName ?? ''),
          s.system,
          s.operation,
          s.target,
          clean(s.note ?? ''),
        ]),
      ),
    )
  }
  if (r.steps.length) {
    // One row per operation: how many steps ended in each state, the figures an admin reports back.
    const states = [...new Set(r.steps.map((st) => st.state))]
    const rows = new Map<string, Record<string, number>>()
    for (const st of r.steps) {
      const key = `${st.system} ${st.operation}`
      const row = rows.get(key) ?? {}
      row[st.state] = (row[st.state] ?? 0) + 1
      rows.set(key, row)
    }
    out.push('\n')
    out.push(
      renderTable(
        ['operation', ...states],
        [...rows].map(([k, v]) => [k, ...states.map((st) => v[st] ?? 0)]),
      ),
    )
  }
  const counts = Object.entries(r.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')
  out.push(`\nSummary: ${counts || 'nothing to do'}.\n`)
  const b = r.brakes
  if (r.dryRun) {
    if (b.exceeded.length)
      out.push(
        `--confirm would be refused: ${b.exceeded.join('; ')}. Raise the caps explicitly with --max-actions and --max-share.\n`,
      )
    else if (r.steps.some((s) => s.state === 'wouldRun'))
      out.push('Run again with --confirm to make these changes.\n')
  } else if ((r.counts.failed ?? 0) > 0) {
    out.push(
      'Some steps failed; the detail column says why. Fix the cause, then act again (done steps are skipped).\n',
    )
  }
  if (!r.dryRun && (r.counts.done ?? 0) > 0)
    out.push(`Undo with: offboard undo ${r.actId} (or one step by its number).\n`)
  return out.join('')
}

function renderUndo(results: readonly UndoResult[]): string {
  return renderTable(
    ['step', 'target', 'state', 'detail'],
    results.map((u) => [u.stepId, u.target, u.state, clean(u.note ?? '')]),
    '(nothing to undo)',
  )
}
