/** @module Smoke test of `npm run bench` at 1k devices: the same code path, its output structure and device counts (never timings). */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { countViolations, idealSchedule } from '../bench/actions.js'
import { BenchUsageError, DefenderWindow, formatTable, parseArgs, runBench } from '../bench/bench.js'

const dir = await mkdtemp(join(tmpdir(), 'offboard-bench-test-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('npm run bench (1k smoke run)', () => {
  it('runs floor, pipeline, engine and actions, and writes latest.json', { timeout: 300_000 }, async () => {
    const result = await runBench({
      pipelineSizes: [1000],
      engineSize: 1000,
      actions: 60,
      timeScale: 60,
      defender: 30,
      defenderTimeScale: 60,
      repeat: 1,
      cacheDir: join(dir, 'cache'),
      resultsDir: join(dir, 'results'),
      log: () => {},
    })
    const [p] = result.pipeline
    // The pipeline's report covers every generated device, and the floor fetched every record served.
    expect(p?.devices).toBe(1000)
    expect(p?.reportedDevices).toBe(1000)
    expect(p?.records).toBeGreaterThan(1000)
    expect(p?.pages).toBeGreaterThanOrEqual(5)
    expect(p?.runs.pipelineMs).toHaveLength(1)
    expect(p?.pipelineMaxRssKb).toBeGreaterThan(0)
    // The extra run that also writes the whole JSON report (checked there to hold the same device count).
    expect(p?.withJsonReport?.wallMs).toBeGreaterThan(0)
    expect(result.engine?.devices).toBe(1000)
    // The floor also fetched the Teams inventory, which the engine does not count as device records.
    expect(result.engine?.records).toBeGreaterThan(1000)
    expect(result.engine?.records).toBeLessThanOrEqual(p!.records)
    expect(result.failures).toEqual([])
    expect(result.actions.map((a) => a.operation)).toEqual(['entra.disable ($batch)', 'defender.offboard'])
    expect(result.actions[0]).toMatchObject({
      planned: 60,
      succeeded: 60,
      lost: 0,
      repeated: 0,
      violations: 0,
    })
    expect(result.actions[1]).toMatchObject({
      planned: 30,
      succeeded: 30,
      lost: 0,
      repeated: 0,
      throttled429: 0,
    })
    const saved = JSON.parse(await readFile(join(dir, 'results', 'latest.json'), 'utf8'))
    expect(saved.pipeline[0].reportedDevices).toBe(1000)
    expect(formatTable(result)).toContain('| 1,000 |')
  })
})

describe("the action benchmark's arithmetic", () => {
  const windows = [{ limit: 3, ms: 100 }]
  it('schedules calls as early as the window allows', () => {
    expect(idealSchedule(7, windows)).toEqual([0, 0, 0, 100, 100, 100, 200])
  })
  it('counts a call that is the (limit+1)-th inside one window', () => {
    expect(countViolations([0, 0, 0, 100, 100, 100, 200], windows)).toBe(0)
    expect(countViolations([0, 10, 20, 99], windows)).toBe(1)
  })
})

describe("the pipeline bench's Defender window", () => {
  it("waits out the last read's calls only when two reads would not fit in one window together", async () => {
    const said: string[] = []
    const window = new DefenderWindow((line) => said.push(line), 300)
    // Nothing read yet, then two reads of 40 calls: 80 fit in a window of 100.
    let t = performance.now()
    await window.clear()
    window.ran(40)
    await window.clear()
    expect(performance.now() - t).toBeLessThan(100)
    // Two reads of 72 (a million devices) do not: wait until the window has passed since the last one ended.
    window.ran(72)
    t = performance.now()
    await window.clear()
    expect(performance.now() - t).toBeGreaterThanOrEqual(250)
    expect(said).toEqual([expect.stringMatching(/^ {2}waiting 1 s for the last read's 72 Defender calls/)])
    // Once waited, the next read may start at once.
    t = performance.now()
    await window.clear()
    expect(performance.now() - t).toBeLessThan(100)
  })
})

describe('npm run bench options', () => {
  const opts = (...argv: string[]) => {
    const parsed = parseArgs(argv)
    if (parsed === 'help') throw new Error('help asked for')
    return parsed
  }

  it('runs the default sizes, 1M only with --large, and no pipeline with --sizes 0 or none', () => {
    expect(opts().pipelineSizes).toEqual([10_000, 100_000])
    expect(opts('--large').pipelineSizes).toEqual([10_000, 100_000, 1_000_000])
    expect(opts('--sizes', '1000,50000', '--engine', '0').pipelineSizes).toEqual([1000, 50_000])
    expect(opts('--sizes', '0', '--engine', '1000').pipelineSizes).toEqual([])
    expect(opts('--sizes', 'none').pipelineSizes).toEqual([])
    expect(opts('--repeat', '5', '--time-scale', '2.5')).toMatchObject({ repeat: 5, timeScale: 2.5 })
    expect(parseArgs(['--repeat', '2', '--help'])).toBe('help')
  })

  it('refuses an unknown option, a missing value and a number out of range, naming it', () => {
    const refused = (argv: string[], message: RegExp) => {
      expect(() => parseArgs(argv)).toThrow(BenchUsageError)
      expect(() => parseArgs(argv)).toThrow(message)
    }
    refused(['--size', '1000'], /unknown option "--size"; the options are/)
    refused(['--engine'], /--engine needs a value/)
    refused(['--repeat', '--large'], /--repeat needs a value/)
    refused(['--sizes', '1000,,2000'], /--sizes takes device counts .* got "" in "1000,,2000"/)
    refused(['--sizes', '2000000'], /got "2000000"/)
    refused(['--engine', '1e9'], /--engine must be a whole number from 0 to 1,000,000, got "1e9"/)
    refused(['--repeat', '0'], /--repeat must be a whole number from 1/)
    refused(['--actions', 'many'], /--actions must be a whole number/)
    refused(['--defender-time-scale', '0'], /--defender-time-scale must be a number above 0/)
  })

  it('prints no pipeline table when no pipeline ran', () => {
    const table = formatTable({
      machine: { cpus: 2, cpuModel: 'x', memoryGiB: 24, node: 'v20' },
      loadAverage: { start: 0, end: 0 },
      pipeline: [],
      engine: null,
      actions: [],
      failures: [],
    } as unknown as Parameters<typeof formatTable>[0])
    expect(table).not.toContain('| devices |')
    expect(table).toContain('machine: 2 cores')
  })
})
