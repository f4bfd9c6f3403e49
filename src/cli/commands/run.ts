/** @module `offboard run`: read a tenant (snapshot, live, or the built-in demo on a local simulator), evaluate it, print the report. */
import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { currentActor, SCHEDULER_ACTOR } from '../../agent/model.js'
import { analyze } from '../../analyze.js'
import { DEMO_AS_OF, demoMeta, MAX_DEMO_DEVICES } from '../../demo/generate.js'
import type { Policy } from '../../domain/policy.js'
import type { Report } from '../../domain/report.js'
import { parseTimestamp } from '../../domain/time.js'
import {
  InstructionsError,
  interpretInstructions,
  requireAllInterpreted,
} from '../../language/instructions.js'
import { loadTenantConfig, type TenantConfig } from '../../lib/config.js'
import { OffboardError, UsageError } from '../../lib/errors.js'
import { enableDebugLogs, logger } from '../../lib/log.js'
import { LoopbackClientCredentials } from '../../lib/loopback-credentials.js'
import { type HeapGrowthCap, memoryNow, withHeapGrowth } from '../../lib/memory.js'
import { formatCsv } from '../../report/format-csv.js'
import { jsonChunks } from '../../report/format-json.js'
import { formatTable } from '../../report/format-table.js'
import { readSnapshot, snapshotTenantId, type TenantData } from '../../snapshot/read-snapshot.js'
import { readLive } from '../../sources/read-live.js'
import { loadPolicy } from '../load-policy.js'
import { note, progressEnabled, writeFileAtomic, writeStdout } from '../output.js'
import { parseAsOf, parsePositiveInt } from '../parse.js'
import { liveProgress } from '../progress.js'
import { clientsFor, connectTenant } from '../tenant.js'

/**
 * How much V8 may let the heap grow between full collections while a run reads its tenant, once the tenant is large
 * (see withHeapGrowth). A 100,000-device read stays under 200 MiB in use, so it is left to V8. Not higher: the growth
 * V8 picks by itself at the last collection before the cap applies still holds until the next, and from 512 MiB
 * (up to 2 GiB at a factor of 4) a million-device run reached 1,964 MiB resident against 1,933–1,941 with the cap
 * throughout.
 */
const READING_HEAP_GROWTH: HeapGrowthCap = { percent: 50, fromMiB: 256 }

export const DEFAULT_DEMO_DEVICES = 500
export const DEFAULT_DEMO_SEED = 1

type Format = 'json' | 'table' | 'csv' | 'summary'

interface RunOptions {
  snapshot?: string
  demo?: boolean
  devices?: number
  seed?: number
  asOf?: number
  format?: Format
  policy?: string
  staleAfter?: number
  instructions?: string
  out?: string
  color: boolean
  quiet?: boolean
  config?: string
  debug?: boolean
  /** false with --no-store. */
  store: boolean
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .summary('evaluate a tenant and recommend what to offboard')
    .description(
      'Reads device records from Intune, Entra ID, Windows Autopilot and Defender for Endpoint, joins them into one\n' +
        'view per physical device, and recommends offboarding with rationale, evidence and an ordered plan.\n' +
        'Nothing is changed in the tenant: `run` only reports.',
    )
    .option(
      '--snapshot <dir>',
      'read an exported tenant snapshot folder (managedDevices.json, devices.json, …)',
    )
    .option('--demo', 'use the built-in demo tenant (deterministic, realistic)')
    .option(
      '--config <file>',
      'live tenant config file (default: offboard.config.json, then OFFBOARD_* variables)',
    )
    .option(
      '--devices <n>',
      `demo tenant size (default ${DEFAULT_DEMO_DEVICES})`,
      parsePositiveInt('--devices', MAX_DEMO_DEVICES),
    )
    .option('--seed <n>', `demo tenant seed (default ${DEFAULT_DEMO_SEED})`, parsePositiveInt('--seed'))
    .option(
      '--as-of <datetime>',
      "measure staleness at this instant (default: the snapshot's takenAt, else now)",
      parseAsOf,
    )
    .addOption(
      new Option(
        '--format <format>',
        'output format (default: table on a terminal, json otherwise); summary: the report without its per-device lists, as JSON',
      ).choices(['json', 'table', 'csv', 'summary']),
    )
    .option('--policy <file>', 'policy file (JSON): thresholds, rule overrides, exclusions, brakes')
    .option(
      '--instructions <text>',
      'plain-language instructions for this run, e.g. "Exclude devices whose name starts with LAB-. Treat devices inactive for more than 60 days as stale." A sentence offboard cannot interpret is an error, never ignored',
    )
    .option(
      '--stale-after <days>',
      'staleness threshold in days for every rule (minimum 30, default 90)',
      parsePositiveInt('--stale-after'),
    )
    .option('-o, --out <file>', 'write the report to a file (atomically) instead of stdout')
    .option('--no-color', 'no colours in table output (also: NO_COLOR=1)')
    .option('-q, --quiet', 'no progress messages on stderr')
    .option('--debug', 'structured debug logs on stderr (request ids, timings; never tokens)')
    .option(
      '--no-store',
      'do not record the run in the store (a pure report; nothing is written to the data folder)',
    )
    .addHelpText(
      'after',
      `
Examples:
  offboard run                                          the live tenant (OFFBOARD_* variables or offboard.config.json)
  offboard run --demo                                   the demo tenant, as a table
  offboard run --snapshot ./export --format json > report.json
  offboard run --snapshot ./export --as-of 2026-11-01T00:00:00Z --format csv -o report.csv
  offboard run --snapshot ./export --policy policy.json --stale-after 120

A snapshot folder holds the collection responses as the APIs return them:
  managedDevices.json                    Intune     GET /deviceManagement/managedDevices
  devices.json                           Entra ID   GET /devices
  windowsAutopilotDeviceIdentities.json  Autopilot  GET /deviceManagement/windowsAutopilotDeviceIdentities
  machines.json                          Defender   GET /api/machines
  teamworkDevices.json (optional)        Teams devices inventory, to recognise Teams phones
  meta.json (optional)                   { "tenantId": "…", "takenAt": "<ISO date-time>" }
Each is { "value": [ … ] } or a JSON array; use <name>.jsonl (one record per line) for large exports.
A missing file means that source is not connected: its absence never counts as "the device is gone".

Every run is recorded in the store (OFFBOARD_DATA_DIR, default ./.offboard, created on first use; or PostgreSQL
with DATABASE_URL): a completed run replaces the tenant's suggestions, a failed one keeps the previous ones, and
only one run per tenant may be in progress. Browse them with 'offboard suggestions' and 'offboard tasks'.

For scheduled runs and large tenants, --format summary prints only the report's head (sources, policy, summary
and counts) as JSON; the suggestions themselves are in the store: 'offboard suggestions'.

Exit codes: 0 report written, 1 bad input or failure (nothing written to stdout), 2 usage error.`,
    )
    .action(async (opts: RunOptions) => {
      await runCommand(opts)
    })
}

async function runCommand(opts: RunOptions): Promise<void> {
  if (opts.debug) enableDebugLogs()
  if (opts.snapshot && opts.demo) throw new UsageError('--snapshot and --demo cannot be used together.')
  // A live tenant is read when neither a snapshot nor the demo is asked for and a tenant is configured.
  const tenant = opts.snapshot || opts.demo ? null : await loadTenantConfig(opts.config)
  if (!opts.snapshot && !opts.demo && !tenant) {
    throw new UsageError(
      'Say which tenant to read: --snapshot <dir>, --demo, or configure a live tenant.',
      "Set OFFBOARD_TENANT_ID and the sign-in variables, or write offboard.config.json (see 'offboard doctor --help'); 'offboard run --help' has examples.",
    )
  }
  if (tenant && (opts.devices !== undefined || opts.seed !== undefined))
    throw new UsageError('--devices and --seed only apply to --demo.')
  if (opts.snapshot && (opts.devices !== undefined || opts.seed !== undefined)) {
    throw new UsageError('--devices and --seed only apply to --demo.')
  }
  let policy = await loadPolicy(opts.policy)
  if (opts.staleAfter !== undefined) {
    if (opts.staleAfter < 30)
      throw new UsageError(
        `--stale-after must be at least 30 days, got ${opts.staleAfter}: Entra's activity timestamp lags by up to ~19 days.`,
      )
    policy.staleAfterDays = opts.staleAfter
  }
  const format: Format = opts.format ?? (process.stdout.isTTY && !opts.out ? 'table' : 'json')
  // JSON is for scripts: they get the report and, on stderr, only errors.
  const progress = progressEnabled(opts.quiet) && format !== 'json' && format !== 'summary'
  const started = performance.now()
  // Instructions for this run are checked before anything is read: a refused sentence stops the run at once.
  if (opts.instructions !== undefined)
    policy = await applyInstructions(opts.instructions, policy, '--instructions')
  let readMs = 0
  /**
   * Reads the tenant. A live read goes on while the run starts, and a refused start stops it through `signal`. A
   * snapshot, which cannot stop half-way, and the demo, whose tenant is generated on this thread (which would hold
   * up the start, and the store's lock with it, for as long: 10 s at 60,000 devices), wait for the start.
   */
  const read = async (signal?: AbortSignal, started?: Promise<unknown>): Promise<TenantData> => {
    if (opts.snapshot || opts.demo) await started
    const readStarted = performance.now()
    const data = await withHeapGrowth(READING_HEAP_GROWTH, () =>
      opts.demo
        ? readDemo(opts, progress)
        : opts.snapshot
          ? readSnapshotWithProgress(opts.snapshot, progress)
          : readLiveTenant(tenant!, progress, signal),
    )
    readMs = performance.now() - readStarted
    return data
  }
  const evaluate = async (data: TenantData, ctx?: { instructions: string }): Promise<Report> => {
    // The agent's stored instructions apply to every recorded run, on top of the policy and --instructions. They
    // were interpreted when they were stored, so reading the tenant did not wait for them.
    const runPolicy = ctx?.instructions
      ? await applyInstructions(ctx.instructions, policy, "the agent's instructions")
      : policy
    const now = opts.asOf ?? data.takenAt ?? (opts.demo ? parseDemoAsOf() : Date.now())
    const analyzeStarted = performance.now()
    const report = analyze(data, { now, policy: runPolicy, consume: true })
    // Where a slow run spends its time, for --debug: reading the tenant, then the engine.
    logger().debug({
      event: 'run.evaluate.done',
      readMs: Math.round(readMs),
      analyzeMs: Math.round(performance.now() - analyzeStarted),
      devices: report.summary.counts.devices,
      ...memoryNow(),
    })
    return report
  }
  // Recorded by default: the run is started (refused if one is running) while the tenant is read, then completed
  // or marked failed.
  const report = opts.store
    ? await (await import('../../agent/runs.js')).withRecordedRunReading(
        {
          store: openDefaultStore,
          tenantId: await tenantKey(opts, tenant),
          trigger: 'manual',
          actor: currentActor(),
        },
        read,
        (ctx, data) => evaluate(data, ctx),
      )
    : await evaluate(await read())
  note(
    progress,
    `Evaluated ${report.summary.counts.devices.toLocaleString('en-US')} devices in ${Math.round(performance.now() - started)} ms.`,
  )

  const text = render(
    report,
    format,
    opts.color && !process.env.NO_COLOR && Boolean(process.stdout.isTTY) && !opts.out,
  )
  if (opts.out) {
    await writeFileAtomic(opts.out, text)
    note(
      true && !opts.quiet,
      `Report written to ${opts.out} (${report.summary.counts.suggestions} suggestions).`,
    )
  } else {
    await writeStdout(text)
  }
}

/** The report as text: JSON in chunks, since a 1M-device report is more than one string may hold. */
function render(report: Report, format: Format, color: boolean): string | Iterable<string> {
  switch (format) {
    case 'json':
      return jsonLines(report)
    case 'summary':
      return `${JSON.stringify(reportHead(report), null, 2)}\n`
    case 'csv':
      return formatCsv(report)
    case 'table':
      return formatTable(report, { color, width: process.stdout.columns || 80 })
  }
}

/**
 * The report without its per-device lists: what a scheduled run or a million-device tenant needs on stdout (a full
 * JSON report is about a gigabyte there); the suggestions are in the store.
 */
export function reportHead(report: Report): Omit<Report, 'suggestions' | 'skipped' | 'undetermined'> {
  const { suggestions: _s, skipped: _k, undetermined: _u, ...head } = report
  return head
}

function* jsonLines(report: Report): Generator<string> {
  yield* jsonChunks(report)
  yield '\n'
}

async function readSnapshotWithProgress(
  dir: string,
  progress: boolean,
  label = `snapshot ${dir}`,
): Promise<TenantData> {
  note(progress, `Reading ${label}`)
  return readSnapshot(dir, (e) => {
    note(
      progress,
      `  ${e.source.padEnd(9)} ${e.status === 'missing' ? 'not connected (no export)' : `${e.records.toLocaleString('en-US')} records`}`,
    )
  })
}

/**
 * The demo tenant takes the production path: the Graph- and Defender-compatible simulator starts in this process
 * on an ephemeral loopback port and is read through the real sources and HTTP client.
 */
async function readDemo(opts: RunOptions, progress: boolean): Promise<TenantData> {
  const devices = opts.devices ?? DEFAULT_DEMO_DEVICES
  const seed = opts.seed ?? DEFAULT_DEMO_SEED
  note(
    progress,
    `Starting the demo tenant (${devices.toLocaleString('en-US')} devices, seed ${seed}) on a local simulator`,
  )
  // Loaded here, not at start-up: Fastify and the generator are only needed for the demo.
  const { DEFAULT_APP, loadSimulatorData, startSimulator } = await import('../../simulator/index.js')
  const sim = await startSimulator({ data: await loadSimulatorData({ devices, seed }) })
  try {
    const tokens = new LoopbackClientCredentials(
      sim.authorityHost,
      sim.tenantId,
      DEFAULT_APP.clientId,
      DEFAULT_APP.clientSecret!,
    )
    const clients = clientsFor({ graph: sim.graphBaseUrl, defender: sim.defenderBaseUrl }, tokens)
    const asOf = parseDemoAsOf()
    note(progress, `Reading the demo tenant from ${sim.url}`)
    const data = await readLive(clients, {
      tenantId: sim.tenantId,
      onProgress: liveProgress(progress),
      log: logger(),
      now: () => asOf,
    })
    return requireSomeSource(data)
  } finally {
    await sim.close()
  }
}

async function readLiveTenant(
  config: TenantConfig,
  progress: boolean,
  signal?: AbortSignal,
): Promise<TenantData> {
  note(progress, `Reading tenant ${config.tenantId}`)
  const { clients } = await connectTenant(config)
  const data = await readLive(clients, {
    tenantId: config.tenantId,
    disabledSources: config.disabledSources,
    onProgress: liveProgress(progress),
    log: logger(),
    ...(signal ? { signal } : {}),
  })
  return requireSomeSource(data)
}

/** A run in which no source could be read has nothing to report: that is a failure, not an empty report. */
export function requireSomeSource(data: TenantData): TenantData {
  const loads = [data.intune, data.entra, data.autopilot, data.defender]
  if (loads.every((l) => l.status !== 'ok')) {
    const reasons = loads.filter((l) => l.error).map((l) => `  - ${l.error}`)
    throw new OffboardError(
      `no source could be read, so there is nothing to report.${reasons.length ? `\n${reasons.join('\n')}` : ''}`,
      "Run 'offboard doctor' to check sign-in and permissions; previous results are kept.",
    )
  }
  return data
}

/** The tenant a run is recorded under, known before anything is read: configured, named by meta.json, or the demo's. */
async function tenantKey(opts: RunOptions, tenant: TenantConfig | null): Promise<string> {
  if (tenant) return tenant.tenantId
  if (opts.demo)
    return demoMeta({ devices: opts.devices ?? DEFAULT_DEMO_DEVICES, seed: opts.seed ?? DEFAULT_DEMO_SEED })
      .tenantId
  return (await snapshotTenantId(opts.snapshot!)) ?? `snapshot:${resolve(opts.snapshot!)}`
}

/** One scheduled run of a configured tenant, for `offboard serve`. */
export async function runScheduled(ctx: { tenantId: string; trigger: 'schedule' }): Promise<void> {
  const config = await loadTenantConfig(undefined)
  if (!config || config.tenantId !== ctx.tenantId) {
    throw new OffboardError(
      `the agent for tenant ${ctx.tenantId} cannot run: the configured tenant is ${config?.tenantId ?? 'none'}.`,
      'Serve with the OFFBOARD_* variables (or offboard.config.json) of that tenant.',
    )
  }
  const policy = await loadPolicy(undefined)
  const { withRecordedRunReading } = await import('../../agent/runs.js')
  await withRecordedRunReading(
    { store: openDefaultStore, tenantId: ctx.tenantId, trigger: ctx.trigger, actor: SCHEDULER_ACTOR },
    (signal) => withHeapGrowth(READING_HEAP_GROWTH, () => readLiveTenant(config, false, signal)),
    async (run, data) => {
      const runPolicy = run.instructions
        ? await applyInstructions(run.instructions, policy, "the agent's instructions")
        : policy
      return analyze(data, { now: data.takenAt ?? Date.now(), policy: runPolicy, consume: true })
    },
  )
}

/**
 * Interprets plain-language instructions on top of a policy.
 * @throws InstructionsError quoting every sentence that could not be interpreted (none is silently dropped).
 */
/**
 * The policy with the instructions applied: by the configured language model when OFFBOARD_LLM_* is set (its
 * proposal validated, and used only when it narrows; otherwise the deterministic reading, with a warning on stderr),
 * else deterministically. Any sentence that cannot be interpreted refuses the run.
 */
async function applyInstructions(text: string, policy: Policy, origin: string): Promise<Policy> {
  try {
    const { llmConfigFromEnv } = await import('../../language/llm-config.js')
    const llm = llmConfigFromEnv()
    if (!llm) return requireAllInterpreted(interpretInstructions(text, policy)).policy
    const { interpretInstructionsWithLlm } = await import('../../language/llm-instructions.js')
    const result = await interpretInstructionsWithLlm(text, llm, policy)
    for (const w of result.warnings) process.stderr.write(`offboard: ${w}\n`)
    return requireAllInterpreted(result.interpretation).policy
  } catch (err) {
    if (err instanceof InstructionsError) throw new InstructionsError(err.refused, origin)
    throw err
  }
}

/** The default store (DATABASE_URL, else PGlite in OFFBOARD_DATA_DIR), loaded only when a run is recorded. */
async function openDefaultStore() {
  return (await import('../../store/store.js')).openStore()
}

function parseDemoAsOf(): number {
  const parsed = parseTimestamp(DEMO_AS_OF)
  return parsed.ok && parsed.ms !== null ? parsed.ms : Date.now()
}
