/**
 * @module The read phase of `offboard run` (sign-in, every page of every source, validation into domain records)
 * against its floor (bench/floor.mjs: the same pages fetched and `JSON.parse`d, nothing else), alternating in one
 * session; with several builds (`--dist`) it compares them, and checks that they all read exactly the same.
 *
 *   npm run build && node --import tsx bench/read-phase.ts --devices 100000 --repeat 5 [--dist dist --dist ../old/dist]
 *     [--latency MS]   the simulator delays every data response (a real service's latency, which read-ahead hides)
 *
 * Each round gets a fresh simulator: the Defender API allows 100 calls a minute, and a quick succession of rounds
 * would otherwise be throttled, which measures the wait, not the read.
 */
import { join, resolve } from 'node:path'
import { baseEnv, demoSnapshot, floorInput, median, ok, run, startSimulator } from './bench.js'

const ROOT = resolve(import.meta.dirname, '..')
const BENCH = join(ROOT, 'bench')

interface Sample {
  ms: number
  cpuMs: number
  digest?: string
}

function parseArgs(argv: string[]) {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const dists = argv.flatMap((a, i) => (a === '--dist' && argv[i + 1] ? [argv[i + 1]!] : []))
  return {
    devices: Number(value('--devices') ?? 100_000),
    repeat: Number(value('--repeat') ?? 5),
    dists: dists.length ? dists : ['dist'],
    latencyMs: Number(value('--latency') ?? 0),
  }
}

const opts = parseArgs(process.argv.slice(2))
const log = (line: string) => process.stderr.write(`${line}\n`)
const snapshot = await demoSnapshot(join(BENCH, '.cache'), opts.devices, log)
const samples = new Map<string, Sample[]>([
  ['floor', []],
  ...opts.dists.map((d) => [d, []] as [string, Sample[]]),
])
for (let round = 1; round <= opts.repeat; round++) {
  const sim = await startSimulator(snapshot, opts.latencyMs ? ['--latency', String(opts.latencyMs)] : [])
  try {
    const env = baseEnv({ ...sim.env, BENCH_FLOOR: JSON.stringify(floorInput(sim.env)) })
    const floor = JSON.parse(ok('the floor', await run([join(BENCH, 'floor.mjs')], env)).stdout) as Sample
    samples.get('floor')!.push(floor)
    const line = [
      `round ${round}/${opts.repeat}: floor ${Math.round(floor.ms)} ms (CPU ${Math.round(floor.cpuMs)})`,
    ]
    for (const dist of opts.dists) {
      const out = ok(
        `the read phase (${dist})`,
        await run([join(BENCH, 'read-live.mjs')], { ...env, OFFBOARD_DIST: resolve(ROOT, dist) }),
      )
      const s = JSON.parse(out.stdout) as Sample
      samples.get(dist)!.push(s)
      line.push(`${dist} ${s.ms} ms (CPU ${s.cpuMs})`)
    }
    log(line.join(', '))
  } finally {
    await sim.stop()
  }
}

const digests = new Set(opts.dists.flatMap((d) => samples.get(d)!.map((s) => s.digest)))
const floorMs = median(samples.get('floor')!.map((s) => s.ms))
process.stdout.write(
  `read phase at ${opts.devices.toLocaleString('en-US')} devices${opts.latencyMs ? `, ${opts.latencyMs} ms latency per response` : ''}, medians of ${opts.repeat}:\n`,
)
for (const [name, list] of samples) {
  const ms = median(list.map((s) => s.ms))
  const cpu = median(list.map((s) => s.cpuMs))
  const ratio = name === 'floor' ? '' : `  ${(ms / floorMs).toFixed(2)}× floor`
  process.stdout.write(
    `  ${name.padEnd(24)} wall ${(ms / 1000).toFixed(2)} s  CPU ${(cpu / 1000).toFixed(2)} s${ratio}\n`,
  )
}
if (digests.size > 1) {
  process.stdout.write(`DIFFERENT RESULTS: the builds read different records (${[...digests].join(', ')})\n`)
  process.exitCode = 1
}
