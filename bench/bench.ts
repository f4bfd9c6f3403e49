/**
 * @module `npm run bench`: the pipeline (`offboard run` against the simulator over HTTPS, persisted to PGlite) at 10k
 * and 100k devices (1M with --large) against a floor measured in the same run, and the engine alone at 1M devices.
 * Prints a table and writes bench/results/latest.json. Never part of `npm test` (a 1k smoke test is).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SCOPES } from '../src/lib/config.js'
import { SOURCES } from '../src/sources/index.js'
import { listPath } from '../src/sources/read-live.js'
import { TEAMS_ENDPOINT } from '../src/sources/teams/index.js'
import type { EngineOutput } from './engine.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'bin', 'offboard.js')
const BENCH = join(ROOT, 'bench')
/** The demo tenant's own "as of": every run measures staleness at the same instant, so reports are comparable. */
const AS_OF = '2026-11-01T00:00:00Z'
const SEED = 1

export interface BenchOptions {
  /** Pipeline sizes (devices). */
  pipelineSizes: number[]
  /** Engine-alone size (devices); 0 skips it. */
  engineSize: number
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
  /** Devices in the pipeline's report: must equal `devices`. */
  reportedDevices: number
  runs: { floorMs: number[]; pipelineMs: number[] }
}

export interface BenchResult {
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string }
  startedAt: string
  pipeline: PipelineResult[]
  engine: (EngineOutput & { msPerMillion: number }) | null
}

interface Spawned {
  code: number | null
  wallMs: number
  stdout: string
  stderr: string
}

/** Runs a process to its end; wall time from spawn to exit. */
async function run(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Spawned> {
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

function ok(what: string, r: Spawned): Spawned {
  if (r.code !== 0) throw new Error(`bench: ${what} exited with ${r.code}:\n${r.stderr.slice(-2000)}`)
  return r
}

/** The environment of a benchmarked child: ours without any store or tenant settings that could leak in. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
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

interface RunningSimulator {
  env: Record<string, string>
  stop(): Promise<void>
}

/** `offboard simulate --https --snapshot DIR` in its own process, so its memory is not the pipeline's. */
async function startSimulator(snapshotDir: string): Promise<RunningSimulator> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'simulate', '--https', '--snapshot', snapshotDir],
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

/** The lists `offboard run` reads, as full URLs: the floor fetches exactly these. */
function floorInput(env: Record<string, string>) {
  const graph = env.OFFBOARD_GRAPH_URL!
  const defender = env.OFFBOARD_DEFENDER_URL!
  const lists = Object.values(SOURCES).map((def) => ({
    url: `${def.endpoint.api === 'defender' ? defender : graph}${listPath(def as never)}`,
    scope: def.endpoint.api === 'defender' ? SCOPES.defender : SCOPES.graph,
    top: def.pageSize,
    skipPaging: def.endpoint.api === 'defender',
  }))
  lists.push({
    url: `${graph.replace(/\/v1\.0$/, '/beta')}${TEAMS_ENDPOINT.path}`,
    scope: SCOPES.graph,
    top: 0,
    skipPaging: false,
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

function median(xs: number[]): number {
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
    let floorOut = { records: 0, pages: 0, maxRssKb: 0 }
    let pipelineRss = 0
    let reported = 0
    for (let i = 0; i < opts.repeat; i++) {
      const f = ok('the floor', await run([join(BENCH, 'floor.mjs')], floorEnv))
      floorOut = JSON.parse(f.stdout) as typeof floorOut
      floorMs.push(f.wallMs)
      const dataDir = join(work, `store-${devices}-${i}`)
      await cp(template, dataDir, { recursive: true })
      const usageFile = join(work, `usage-${devices}-${i}.json`)
      const reportFile = join(work, `report-${devices}.json`)
      const p = ok(
        `offboard run (${devices} devices)`,
        await run(
          [
            '--import',
            join(BENCH, 'usage-preload.mjs'),
            BIN,
            'run',
            '--quiet',
            '--format',
            'json',
            '--as-of',
            AS_OF,
            '-o',
            reportFile,
          ],
          baseEnv({ ...sim.env, OFFBOARD_DATA_DIR: dataDir, BENCH_USAGE_FILE: usageFile }),
        ),
      )
      pipelineMs.push(p.wallMs)
      const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { maxRssKb: number }
      pipelineRss = Math.max(pipelineRss, usage.maxRssKb)
      reported = await reportedDevices(reportFile)
      await rm(dataDir, { recursive: true, force: true })
      await rm(reportFile, { force: true })
      opts.log(
        `  run ${i + 1}/${opts.repeat}: floor ${(f.wallMs / 1000).toFixed(2)} s, pipeline ${(p.wallMs / 1000).toFixed(2)} s, peak RSS ${Math.round(usage.maxRssKb / 1024)} MiB`,
      )
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
      reportedDevices: reported,
      runs: { floorMs, pipelineMs },
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
      ['--import', 'tsx', join(BENCH, 'engine.ts')],
      baseEnv({ BENCH_ENGINE: JSON.stringify({ snapshotDir: snapshot, now: Date.parse(AS_OF) }) }),
    ),
  )
  const out = JSON.parse(r.stdout) as EngineOutput
  return { ...out, msPerMillion: (out.correlateEvaluateMs / devices) * 1_000_000 }
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
      pipeline: [],
      engine: null,
    }
    const template = await storeTemplate(work)
    for (const size of opts.pipelineSizes)
      result.pipeline.push(await benchPipeline(size, opts, work, template))
    if (opts.engineSize > 0) result.engine = await benchEngine(opts.engineSize, opts)
    if (opts.resultsDir) {
      await mkdir(opts.resultsDir, { recursive: true })
      await writeFile(join(opts.resultsDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`)
    }
    return result
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
const mib = (kb: number): string => `${Math.round(kb / 1024).toLocaleString('en-US')} MiB`

export function formatTable(r: BenchResult): string {
  const lines = [
    `machine: ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`,
    '',
    '| pipeline | records | floor | pipeline | ratio | devices/s | peak RSS |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...r.pipeline.map(
      (p) =>
        `| ${p.devices.toLocaleString('en-US')} | ${p.records.toLocaleString('en-US')} | ${s(p.floorMs)} | ${s(p.pipelineMs)} | ${p.ratio.toFixed(2)}× | ${Math.round(p.devicesPerSecond).toLocaleString('en-US')} | ${mib(p.pipelineMaxRssKb)} |`,
    ),
  ]
  if (r.engine) {
    const e = r.engine
    lines.push(
      '',
      '| engine alone | correlate | correlate + evaluate | whole engine (+ recommend, report) | peak RSS |',
      '|---:|---:|---:|---:|---:|',
      `| ${e.devices.toLocaleString('en-US')} | ${s(e.correlateMs)} | ${s(e.correlateEvaluateMs)} | ${s(e.analyzeMs)} | ${mib(e.maxRssKb)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

function parseArgs(argv: string[]): BenchOptions {
  const large = argv.includes('--large')
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const sizes = value('--sizes')
  return {
    pipelineSizes: sizes
      ? sizes.split(',').map(Number)
      : large
        ? [10_000, 100_000, 1_000_000]
        : [10_000, 100_000],
    engineSize: Number(value('--engine') ?? 1_000_000),
    repeat: Number(value('--repeat') ?? 3),
    cacheDir: join(BENCH, '.cache'),
    resultsDir: join(BENCH, 'results'),
    log: (line) => process.stderr.write(`${line}\n`),
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runBench(parseArgs(process.argv.slice(2)))
  process.stdout.write(formatTable(result))
}
