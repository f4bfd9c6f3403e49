/** @module `offboard act` and `offboard undo` in process: dry run by default, --confirm, --resume, exit codes and JSON. */
import { Command } from 'commander'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defenderFloorSeconds, registerAct, registerUndo } from '../cli/commands/act.js'
import { UsageError } from '../lib/errors.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { borrowStore, type Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import type { ActEvent } from './executor.js'
import { ACTOR, graphOf, patchesByTarget, seedTenant, simulatorData, TENANT } from './test-support.js'

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

describe.each(testBackends())('offboard act on $name', (backend) => {
  const sims: Simulator[] = []
  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close()
    await backend.cleanup()
  })
  afterAll(() => backend.teardown())

  async function setUp(devices: number, extra: Record<number, Record<string, unknown>> = {}) {
    const store = await backend.create()
    await seedTenant(store, range(devices))
    const sim = await startSimulator({ data: simulatorData(devices, extra) })
    sims.push(sim)
    return { store, sim }
  }

  /** Runs one command line; returns its output and the exit code it set. */
  async function cli(store: Store, sim: Simulator, args: string[], onEvent?: (e: ActEvent) => void) {
    let out = ''
    let code = 0
    const program = new Command().exitOverride()
    const deps = {
      openStore: async () => borrowStore(store),
      env: { OFFBOARD_TENANT_ID: TENANT, OFFBOARD_USER: ACTOR },
      write: async (t: string) => {
        out += t
      },
      connect: async () => graphOf(sim),
      setExitCode: (c: number) => {
        code = c
      },
      progress: false,
      ...(onEvent ? { onEvent } : {}),
    }
    registerAct(program, deps)
    registerUndo(program, deps)
    for (const c of program.commands) c.exitOverride()
    await program.parseAsync(['node', 'offboard', ...args])
    return { out, code }
  }

  it('without --confirm it is a dry run; with it the changes are made; JSON for scripts', async () => {
    const { store, sim } = await setUp(3)
    const dry = await cli(store, sim, ['act', '--all', '--format', 'table'])
    expect(dry.out).toContain('nothing was changed')
    expect(dry.out).toContain('Run again with --confirm')
    expect(dry.out).toContain('not run by offboard (opt-in not enabled)')
    expect(sim.calls()).toEqual([])
    const done = await cli(store, sim, ['act', '--all', '--confirm', '--format', 'json'])
    const result = JSON.parse(done.out)
    expect(result.counts).toEqual({ done: 3 })
    expect(done.code).toBe(0)
    expect(patchesByTarget(sim).size).toBe(3)
    const undo = await cli(store, sim, ['undo', result.actId, '--format', 'json'])
    expect(JSON.parse(undo.out).map((u: { state: string }) => u.state)).toEqual([
      'undone',
      'undone',
      'undone',
    ])
  })

  it('a per-device failure exits 1; usage mistakes are usage errors', async () => {
    const { store, sim } = await setUp(2, { 1: { operatingSystem: 'Android' } })
    const r = await cli(store, sim, ['act', '--all', '--confirm', '--format', 'table'])
    expect(r.code).toBe(1)
    expect(r.out).toContain('Cloud Device Administrator')
    await expect(cli(store, sim, ['act', '--format', 'json'])).rejects.toThrow(UsageError)
    await expect(cli(store, sim, ['act', '--all', '--resume'])).rejects.toThrow(UsageError)
    await expect(cli(store, sim, ['act', '--all', '--max-share', '150'])).rejects.toThrow(UsageError)
  })

  it('--resume continues an interrupted act', async () => {
    const { store, sim } = await setUp(25)
    let n = 0
    await expect(
      cli(store, sim, ['act', '--all', '--confirm', '--max-share', '100', '--format', 'json'], () => {
        if (++n === 10) throw new Error('killed')
      }),
    ).rejects.toThrow('killed')
    const r = await cli(store, sim, ['act', '--resume', '--format', 'json'])
    expect(JSON.parse(r.out).counts).toEqual({ done: 25 })
    expect(sim.calls()).toHaveLength(25)
  })
})

describe('the ETA floor of Defender offboards', () => {
  it('follows 100 calls a minute within the first hour and 1,500 an hour after it', () => {
    expect(defenderFloorSeconds(50)).toBe(0)
    // 1,100 calls: the first 100 at once, then 10 minutes at 100 a minute.
    expect(defenderFloorSeconds(1_000)).toBe(600)
    // 5,500 calls: three full hours of 1,500, then 1,000 more (the first 100 at once, 9 minutes for the rest).
    expect(defenderFloorSeconds(5_000)).toBe(3 * 3_600 + 9 * 60)
  })
})
