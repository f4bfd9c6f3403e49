/**
 * @module `npm run bench`: the pipeline (`offboard run` against the simulator over HTTPS, persisted to PGlite) at 10k
 * and 100k devices (1M with --large) against a floor measured in the same run, and the engine alone at 1M devices.
 * Prints a table and writes bench/results/latest.json. Never part of `npm test` (a 1k smoke test is).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MAX_DEMO_DEVICES } from '../src/demo/generate.js'
import { SCOPES } from '../src/lib/config.js'
import { DEFAULT_DEFENDER_LIMITS } from '../src/simulator/defender.js'
import { SOURCES } from '../src/sources/index.js'
import { listPath } from '../src/sources/read-live.js'
import { TEAMS_ENDPOINT } from '../src/sources/teams/index.js'
import type { ActionsOutput } from './actions.js'
import type { EngineOutput } from './engine.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'bin', 'offboard.js')
const BENCH = join(ROOT, 'bench')
/** The demo tenant's own "as of": every run measures staleness at the same instant, so reports are comparable. */
const AS_OF = '2026-11-01T00:00:00Z'
const SEED = 1
/**
 * V8's default heap limit on this machine is about 4 GiB, which the engine at 1M devices exceeds: the engine-alone
 * benchmark gets more, and says so in its result. (The pipeline gets Node's default, as `offboard run` would.)
 */
const ENGINE_HEAP_MIB = 12_288
const SIMULATOR_HEAP_MIB = 16_384
/** From this size on the pipeline runs once: a 1M run takes minutes. */
const SINGLE_RUN_FROM = 1_000_000

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
const mib = (kb: number): string => `${Math.round(kb / 1024).toLocaleString('en-US')} MiB`

export interface BenchOptions {
  /** Pipeline sizes (devices). */
  pipelineSizes: number[]
  /** Engine-alone size (devices); 0 skips it. */
  engineSize: number
  /** Entra disables for the action benchmark; 0 skips it. */
  actions: number
  /** Time compression of the action benchmark (k× faster clock on both sides of the rate limit). */
  timeScale: number
  /** Defender offboards to run (0: none); over 1,500 calls exercises the hourly window. */
  defender: number
  /** The Defender run's clock: 100/min and 1,500/h pass k× faster. */
  defenderTimeScale: number
  /** Interleaved floor/pipeline repetitions per size; the median is reported. */
  repeat: number
  /** Where generated tenants are cached. */
  cacheDir: string
  /** Where latest.json is written; null writes nothing. */
  resultsDir: string | null
  log: (line: string) => void
}

export interface PipelineResult {
  devices: number
  /** Records served by the simulator (all sources), as the floor counted them. */
  records: number
  pages: number
  floorMs: number
  pipelineMs: number
  ratio: number
  devicesPerSecond: number
  pipelineMaxRssKb: number
  floorMaxRssKb: number
  /** CPU time (user + system) of the client process, medians: on a shared machine less noisy than wall time. */
  floorCpuMs: number
  pipelineCpuMs: number
  /** Devices in the pipeline's report: must equal `devices`. */
  reportedDevices: number
  /** One more run that also writes the full JSON report to a file (`--format json -o`); null at 1M. */
  withJsonReport: { wallMs: number; cpuMs: number; maxRssKb: number } | null
  runs: { floorMs: number[]; pipelineMs: number[]; floorCpuMs: number[]; pipelineCpuMs: number[] }
}

export interface BenchResult {
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string }
  startedAt: string
  /** 1-minute load average at the start and the end: other work on the machine inflates wall times. */
  loadAverage: { start: number; end: number }
  pipeline: PipelineResult[]
  engine: (EngineOutput & { msPerMillion: number; heapLimitMiB: number }) | null
  /** Entra disables, then Defender offboards (when asked for). */
  actions: (ActionsOutput & { timeScale: number })[]
  /** Sections that failed, with the error (the bench goes on with the others). */
  failures: { what: string; message: string }[]
}

export interface Spawned {
  code: number | null
  wallMs: number
  stdout: string
  stderr: string
}

/** Runs a process to its end; wall time from spawn to exit. */
export async function run(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Spawned> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  const [code] = (await once(child, 'exit')) as [number | null]
  const wallMs = performance.now() - started
  return { code, wallMs, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

export function ok(what: string, r: Spawned): Spawned {
  if (r.code !== 0) {
    const lines = r.stderr.split('\n')
    const error = lines.find((l) => /error/i.test(l)) ?? lines[0]
    throw new Error(`bench: ${what} exited with ${r.code}: ${error}\n${r.stderr.slice(-2000)}`)
  }
  return r
}

/** The environment of a benchmarked child: ours without any store or tenant settings that could leak in. */
export function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DATABASE_URL: '' }
  for (const k of Object.keys(env)) if (k.startsWith('OFFBOARD_')) delete env[k]
  return { ...env, ...extra }
}

/** A demo tenant as a JSONL snapshot, generated once per size and kept in the cache folder. */
export async function demoSnapshot(
  cacheDir: string,
  devices: number,
  log: BenchOptions['log'],
): Promise<string> {
  const dir = join(cacheDir, `demo-${devices}-seed${SEED}`)
  if (existsSync(join(dir, 'meta.json'))) return dir
  log(
    `generating the ${devices.toLocaleString('en-US')}-device demo tenant into ${dir} (cached for next time)`,
  )
  await mkdir(cacheDir, { recursive: true })
  const tmp = `${dir}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  ok(
    'offboard demo',
    await run(
      [BIN, 'demo', '--out', tmp, '--devices', String(devices), '--seed', String(SEED), '--jsonl', '--quiet'],
      baseEnv({}),
    ),
  )
  await rename(tmp, dir)
  return dir
}

export interface RunningSimulator {
  env: Record<string, string>
  stop(): Promise<void>
}

/** `offboard simulate --https --snapshot DIR` in its own process, so its memory is not the pipeline's. */
export async function startSimulator(
  snapshotDir: string,
  extraArgs: string[] = [],
): Promise<RunningSimulator> {
  const child: ChildProcess = spawn(
    process.execPath,
    // The simulator stands in for Microsoft's services and is not what is measured: at 1M devices it holds several
    // GiB of raw records, more than V8's default heap limit.
    [
      `--max-old-space-size=${SIMULATOR_HEAP_MIB}`,
      BIN,
      'simulate',
      '--https',
      '--snapshot',
      snapshotDir,
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      env: baseEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let text = ''
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString()
  })
  await new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      text += b.toString()
      if (text.includes('Press Ctrl+C')) resolveReady()
    })
    child.once('exit', (code) => reject(new Error(`bench: the simulator exited with ${code}:\n${stderr}`)))
  })
  const env: Record<string, string> = {}
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1')
  return {
    env,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/**
 * The simulator holds every app to Defender's 100 calls a minute, as the service does. Two reads of a million-device
 * tenant back to back (floor, then pipeline: 72 Defender pages each) do not fit in one minute, so the second was
 * throttled and waited out the first's calls: a 1M pipeline took 86 s after its floor and 55 s on its own. A tenant
 * is not read twice a minute, so before each read the bench waits until the last read's calls have left the window,
 * whenever the two would not fit in it together.
 */
export class DefenderWindow {
  #endedAt = 0
  #calls = 0

  /** `windowMs`: how long after a read all its calls have left the window (the minute, and a second's margin). */
  constructor(
    private readonly log: BenchOptions['log'],
    private readonly windowMs = 61_000,
  ) {}

  /** A read that made `calls` Defender calls just ended (a pipeline makes the floor's calls). */
  ran(calls: number): void {
    this.#endedAt = performance.now()
    this.#calls = calls
  }

  async clear(): Promise<void> {
    if (this.#calls * 2 <= DEFAULT_DEFENDER_LIMITS.perMinute) return
    // The window slides: a call leaves it 60 s after it was made, all of the last read's by 60 s after its end.
    const waitMs = this.#endedAt + this.windowMs - performance.now()
    if (waitMs <= 0) return
    this.log(
      `  waiting ${Math.ceil(waitMs / 1000)} s for the last read's ${this.#calls} Defender calls to leave the simulator's 100-a-minute window`,
    )
    await new Promise((done) => setTimeout(done, waitMs))
    this.#calls = 0
  }
}

/** The lists `offboard run` reads, as full URLs: the floor fetches exactly these. */
export function floorInput(env: Record<string, string>) {
  const graph = env.OFFBOARD_GRAPH_URL!
  const defender = env.OFFBOARD_DEFENDER_URL!
  const lists = Object.values(SOURCES).map((def) => ({
    url: `${def.endpoint.api === 'defender' ? defender : graph}${listPath(def as never)}`,
    scope: def.endpoint.api === 'defender' ? SCOPES.defender : SCOPES.graph,
    top: def.pageSize,
    api: def.endpoint.api,
  }))
  lists.push({
    url: `${graph.replace(/\/v1\.0$/, '/beta')}${TEAMS_ENDPOINT.path}`,
    scope: SCOPES.graph,
    top: 0,
    api: 'graph' as const,
  })
  return {
    authorityHost: env.OFFBOARD_AUTHORITY_HOST!,
    tenantId: env.OFFBOARD_TENANT_ID!,
    clientId: env.OFFBOARD_CLIENT_ID!,
    clientSecret: env.OFFBOARD_CLIENT_SECRET!,
    lists,
  }
}

/** The device count a JSON report states, read from its head (a 1M-device report is too big to parse whole). */
async function reportedDevices(path: string): Promise<number> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(64 * 1024)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    const m = /"counts": \{\s*"devices": (\d+)/.exec(buf.subarray(0, bytesRead).toString())
    if (!m) throw new Error(`bench: ${path} does not start like an offboard JSON report`)
    return Number(m[1])
  } finally {
    await fh.close()
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** A store folder created once (migrations run), copied for every pipeline run: the run measures a run, not setup. */
async function storeTemplate(work: string): Promise<string> {
  const dir = join(work, 'store-template')
  ok(
    'offboard logs (store creation)',
    await run([BIN, 'logs', '--format', 'json'], baseEnv({ OFFBOARD_DATA_DIR: dir })),
  )
  return dir
}

/** One `offboard run` against the simulator on a fresh copy of the store template; CPU and peak RSS from the preload. */
async function pipelineRun(
  devices: number,
  tag: string,
  output: string[],
  sim: RunningSimulator,
  work: string,
  template: string,
): Promise<Spawned & { cpuMs: number; maxRssKb: number }> {
  const dataDir = join(work, `store-${devices}-${tag}`)
  await cp(template, dataDir, { recursive: true })
  const usageFile = join(work, `usage-${devices}-${tag}.json`)
  try {
    const p = ok(
      `offboard run (${devices} devices)`,
      await run(
        ['--import', join(BENCH, 'usage-preload.mjs'), BIN, 'run', '--quiet', '--as-of', AS_OF, ...output],
        baseEnv({ ...sim.env, OFFBOARD_DATA_DIR: dataDir, BENCH_USAGE_FILE: usageFile }),
      ),
    )
    const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { maxRssKb: number; cpuMs: number }
    return { ...p, ...usage }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

async function benchPipeline(
  devices: number,
  opts: BenchOptions,
  work: string,
  template: string,
): Promise<PipelineResult> {
  const snapshot = await demoSnapshot(opts.cacheDir, devices, opts.log)
  opts.log(`pipeline ${devices.toLocaleString('en-US')} devices: starting the simulator`)
  const sim = await startSimulator(snapshot)
  try {
    const floorEnv = baseEnv({ BENCH_FLOOR: JSON.stringify(floorInput(sim.env)) })
    if (sim.env.NODE_EXTRA_CA_CERTS) floorEnv.NODE_EXTRA_CA_CERTS = sim.env.NODE_EXTRA_CA_CERTS
    const floorMs: number[] = []
    const pipelineMs: number[] = []
    const floorCpu: number[] = []
    const pipelineCpu: number[] = []
    let floorOut = { records: 0, pages: 0, defenderCalls: 0, maxRssKb: 0, cpuMs: 0 }
    const window = new DefenderWindow(opts.log)
    let pipelineRss = 0
    let reported = 0
    const repeat = devices >= SINGLE_RUN_FROM ? 1 : opts.repeat
    for (let i = 0; i < repeat; i++) {
      await window.clear()
      const f = ok('the floor', await run([join(BENCH, 'floor.mjs')], floorEnv))
      floorOut = JSON.parse(f.stdout) as typeof floorOut
      window.ran(floorOut.defenderCalls)
      await window.clear()
      floorMs.push(f.wallMs)
      floorCpu.push(floorOut.cpuMs)
      const p = await pipelineRun(devices, `${i}`, ['--format', 'summary'], sim, work, template)
      window.ran(floorOut.defenderCalls)
      pipelineMs.push(p.wallMs)
      pipelineCpu.push(p.cpuMs)
      pipelineRss = Math.max(pipelineRss, p.maxRssKb)
      reported = (JSON.parse(p.stdout) as { summary: { counts: { devices: number } } }).summary.counts.devices
      opts.log(
        `  run ${i + 1}/${repeat}: floor ${secs(f.wallMs)}, pipeline ${secs(p.wallMs)} (CPU ${secs(p.cpuMs)}), peak RSS ${mib(p.maxRssKb)}`,
      )
    }
    // Writing the whole JSON report (~1 KB per device) is output, not the pipeline: measured once, on its own line.
    let withJsonReport: PipelineResult['withJsonReport'] = null
    if (devices < SINGLE_RUN_FROM) {
      const reportFile = join(work, `report-${devices}.json`)
      await window.clear()
      const p = await pipelineRun(
        devices,
        'json',
        ['--format', 'json', '-o', reportFile],
        sim,
        work,
        template,
      )
      const written = await reportedDevices(reportFile)
      if (written !== reported)
        throw new Error(`bench: the JSON report has ${written} devices, the summary ${reported}`)
      withJsonReport = { wallMs: p.wallMs, cpuMs: p.cpuMs, maxRssKb: p.maxRssKb }
      await rm(reportFile, { force: true })
      opts.log(`  with the JSON report written to a file: ${secs(p.wallMs)} (CPU ${secs(p.cpuMs)})`)
    }
    const floor = median(floorMs)
    const pipeline = median(pipelineMs)
    return {
      devices,
      records: floorOut.records,
      pages: floorOut.pages,
      floorMs: floor,
      pipelineMs: pipeline,
      ratio: pipeline / floor,
      devicesPerSecond: devices / (pipeline / 1000),
      pipelineMaxRssKb: pipelineRss,
      floorMaxRssKb: floorOut.maxRssKb,
      floorCpuMs: median(floorCpu),
      pipelineCpuMs: median(pipelineCpu),
      reportedDevices: reported,
      withJsonReport,
      runs: { floorMs, pipelineMs, floorCpuMs: floorCpu, pipelineCpuMs: pipelineCpu },
    }
  } finally {
    await sim.stop()
  }
}

async function benchEngine(devices: number, opts: BenchOptions): Promise<BenchResult['engine']> {
  const snapshot = await demoSnapshot(opts.cacheDir, devices, opts.log)
  opts.log(`engine alone ${devices.toLocaleString('en-US')} devices`)
  const r = ok(
    'the engine benchmark',
    await run(
      [`--max-old-space-size=${ENGINE_HEAP_MIB}`, '--import', 'tsx', join(BENCH, 'engine.ts')],
      baseEnv({ BENCH_ENGINE: JSON.stringify({ snapshotDir: snapshot, now: Date.parse(AS_OF) }) }),
    ),
  )
  const out = JSON.parse(r.stdout) as EngineOutput
  return {
    ...out,
    msPerMillion: (out.correlateEvaluateMs / devices) * 1_000_000,
    heapLimitMiB: ENGINE_HEAP_MIB,
  }
}

async function benchActions(
  operation: 'entra.disable' | 'defender.offboard',
  devices: number,
  timeScale: number,
  opts: BenchOptions,
): Promise<ActionsOutput & { timeScale: number }> {
  opts.log(
    operation === 'entra.disable'
      ? `actions: ${devices.toLocaleString('en-US')} Entra disables through $batch, clock ${timeScale}× faster`
      : `actions: ${devices.toLocaleString('en-US')} Defender offboards (100/min, 1,500/h), clock ${timeScale}× faster`,
  )
  const r = ok(
    'the action benchmark',
    await run(
      ['--import', 'tsx', join(BENCH, 'actions.ts')],
      baseEnv({ BENCH_ACTIONS: JSON.stringify({ devices, timeScale, operation }) }),
    ),
  )
  return { ...(JSON.parse(r.stdout) as ActionsOutput), timeScale }
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const work = await mkdtemp(join(tmpdir(), 'offboard-bench-'))
  try {
    const result: BenchResult = {
      machine: {
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      startedAt: new Date().toISOString(),
      loadAverage: { start: loadavg()[0]!, end: 0 },
      pipeline: [],
      engine: null,
      actions: [],
      failures: [],
    }
    // A section that fails is recorded as failed and the others still run: one bug must not cost the rest.
    const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
      try {
        return await fn()
      } catch (err) {
        const message = (err as Error).message
        result.failures.push({ what, message })
        opts.log(`${what} FAILED: ${message.split('\n')[0]}`)
        return null
      }
    }
    const template = await storeTemplate(work)
    for (const size of opts.pipelineSizes) {
      const p = await attempt(`pipeline ${size}`, () => benchPipeline(size, opts, work, template))
      if (p) result.pipeline.push(p)
    }
    if (opts.engineSize > 0)
      result.engine = await attempt(`engine ${opts.engineSize}`, () => benchEngine(opts.engineSize, opts))
    if (opts.actions > 0) {
      const a = await attempt(`actions ${opts.actions}`, () =>
        benchActions('entra.disable', opts.actions, opts.timeScale, opts),
      )
      if (a) result.actions.push(a)
    }
    if (opts.defender > 0) {
      const d = await attempt(`defender ${opts.defender}`, () =>
        benchActions('defender.offboard', opts.defender, opts.defenderTimeScale, opts),
      )
      if (d) result.actions.push(d)
    }
    result.loadAverage.end = loadavg()[0]!
    if (opts.resultsDir) {
      await mkdir(opts.resultsDir, { recursive: true })
      await writeFile(join(opts.resultsDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`)
    }
    return result
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

export function formatTable(r: BenchResult): string {
  const lines = [
    `machine: ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; load average ${r.loadAverage.start.toFixed(1)} → ${r.loadAverage.end.toFixed(1)}`,
  ]
  if (r.pipeline.length) {
    lines.push(
      '',
      '| devices | records | floor | pipeline | ratio | devices/s | peak RSS | CPU floor | CPU pipeline | + JSON report file |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...r.pipeline.map(
        (p) =>
          `| ${p.devices.toLocaleString('en-US')} | ${p.records.toLocaleString('en-US')} | ${secs(p.floorMs)} | ${secs(p.pipelineMs)} | ${p.ratio.toFixed(2)}× | ${Math.round(p.devicesPerSecond).toLocaleString('en-US')} | ${mib(p.pipelineMaxRssKb)} | ${secs(p.floorCpuMs)} | ${secs(p.pipelineCpuMs)} | ${p.withJsonReport ? secs(p.withJsonReport.wallMs) : '—'} |`,
      ),
    )
  }
  if (r.engine) {
    const e = r.engine
    lines.push(
      '',
      '| engine alone | correlate (index; views are built during evaluation) | correlate + evaluate | whole engine (+ recommend, report) | peak RSS |',
      '|---:|---:|---:|---:|---:|',
      `| ${e.devices.toLocaleString('en-US')} | ${secs(e.correlateMs)} | ${secs(e.correlateEvaluateMs)} | ${secs(e.analyzeMs)} | ${mib(e.maxRssKb)} |`,
    )
  }
  if (r.actions.length) {
    lines.push(
      '',
      '| action | done | limit | clock | share of allowed rate | 429s | limit violations | lost | repeated |',
      '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    )
  }
  for (const a of r.actions) {
    lines.push(
      `| ${a.operation} | ${a.succeeded.toLocaleString('en-US')}/${a.planned.toLocaleString('en-US')} | ${a.limit} | ${a.timeScale}× | ${(a.shareOfAllowedRate * 100).toFixed(1)} % (${a.virtualSeconds.toFixed(0)} s vs ${a.idealSeconds.toFixed(0)} s ideal) | ${a.throttled429} | ${a.violations} | ${a.lost} | ${a.repeated} |`,
    )
  }
  for (const f of r.failures) lines.push('', `FAILED ${f.what}: ${f.message.split('\n')[0]}`)
  return `${lines.join('\n')}\n`
}

export const USAGE = `Usage: npm run bench -- [options]

  --sizes N,N,...          pipeline runs at these device counts (default 10000,100000; 0 or none: no pipeline run)
  --large                  adds the pipeline at 1,000,000 devices to the default sizes (minutes, several GiB)
  --repeat N               floor and pipeline runs per size, medians reported (default 3; 1M runs once)
  --engine N               engine alone at N devices (default 1000000; 0: skip)
  --actions N              Entra disables through $batch (default 10000; 0: skip)
  --time-scale X           the Entra actions' clock runs X times faster (default 5)
  --defender N             Defender offboards (default 1600; 0: skip)
  --defender-time-scale X  the Defender actions' clock runs X times faster (default 15)
  --help                   this text
`

/** A bench option that cannot be taken: the message says which and why; the caller prints it with the usage. */
export class BenchUsageError extends Error {}

/**
 * The options of \`npm run bench -- …\`, checked: an unknown option, a missing value or a number out of range is an
 * error naming it, rather than a run of minutes that fails at the end or measures something else than asked.
 */
export function parseArgs(argv: string[]): BenchOptions | 'help' {
  const values = new Map<string, string>()
  let large = false
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    if (flag === '--help' || flag === '-h') return 'help'
    if (flag === '--large') {
      large = true
      continue
    }
    if (!VALUE_FLAGS.includes(flag))
      throw new BenchUsageError(
        `unknown option ${JSON.stringify(flag)}; the options are --large, --help and ${VALUE_FLAGS.join(', ')}.`,
      )
    const value = argv[i + 1]
    if (value === undefined || value.startsWith('--')) throw new BenchUsageError(`${flag} needs a value.`)
    values.set(flag, value)
    i++
  }
  const count = (flag: string, fallback: number, min: number, max: number): number => {
    const text = values.get(flag)
    if (text === undefined) return fallback
    const n = Number(text)
    if (!Number.isInteger(n) || n < min || n > max)
      throw new BenchUsageError(
        `${flag} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got ${JSON.stringify(text)}.`,
      )
    return n
  }
  const scale = (flag: string, fallback: number): number => {
    const text = values.get(flag)
    if (text === undefined) return fallback
    const x = Number(text)
    if (!Number.isFinite(x) || x <= 0)
      throw new BenchUsageError(`${flag} must be a number above 0, got ${JSON.stringify(text)}.`)
    return x
  }
  return {
    pipelineSizes: pipelineSizes(values.get('--sizes'), large),
    engineSize: count('--engine', 1_000_000, 0, MAX_DEMO_DEVICES),
    repeat: count('--repeat', 3, 1, 100),
    actions: count('--actions', 10_000, 0, 1_000_000),
    // A compressed clock also compresses the limiter's transit margin (2 s) against real network time: at 5× and
    // 15× it still covers 400 ms and 133 ms of real transit, and the executor keeps up with 5× Entra's write rate.
    // At 30× (67 ms) an AMD EPYC of the project's machines saw one call too many in a minute in two runs of three,
    // and none in two runs at 15×: a stall of tens of milliseconds is enough, so 30× measured the compression.
    timeScale: scale('--time-scale', 5),
    defender: count('--defender', 1_600, 0, 1_000_000),
    defenderTimeScale: scale('--defender-time-scale', 15),
    cacheDir: join(BENCH, '.cache'),
    resultsDir: join(BENCH, 'results'),
    log: (line) => process.stderr.write(`${line}\n`),
  }
}

const VALUE_FLAGS = [
  '--sizes',
  '--engine',
  '--repeat',
  '--actions',
  '--time-scale',
  '--defender',
  '--defender-time-scale',
]

function pipelineSizes(text: string | undefined, large: boolean): number[] {
  if (text === undefined) return large ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]
  if (text === '0' || text === 'none') return []
  return text.split(',').map((item) => {
    const n = Number(item)
    if (!Number.isInteger(n) || n < 1 || n > MAX_DEMO_DEVICES)
      throw new BenchUsageError(
        `--sizes takes device counts from 1 to ${MAX_DEMO_DEVICES.toLocaleString('en-US')} separated by commas (or 0 for none), got ${JSON.stringify(item)} in ${JSON.stringify(text)}.`,
      )
    return n
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts: BenchOptions | 'help'
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (opts === 'help') process.stdout.write(USAGE)
  else process.stdout.write(formatTable(await runBench(opts)))
}
