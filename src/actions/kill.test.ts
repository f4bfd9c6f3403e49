/**
 * @module Real kill -9: a child process acting on a PGlite data folder is SIGKILLed at several points, then
 * `act --resume` in a new process finishes the act. The simulator's call record must show every PATCH exactly once.
 */
import { spawn } from 'node:child_process'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { temporaryDirs } from '../lib/test-dirs.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { openStore } from '../store/store.js'
import { patchesByTarget, seedTenant, simulatorData, TENANT } from './test-support.js'

const DEVICES = 40
const CHILD = join(import.meta.dirname, 'test-crash-child.ts')
const tempDir = temporaryDirs('offboard-kill-')
let template = ''

/** Creating a PGlite folder takes seconds; each test copies one seeded folder instead. */
beforeAll(async () => {
  template = tempDir()
  const store = await openStore({ dataDir: template })
  await seedTenant(
    store,
    Array.from({ length: DEVICES }, (_, i) => i + 1),
  )
  await store.close()
}, 60_000)

/** Runs the child; with `killAfter`, SIGKILLs it once it has reported that many durable steps. */
function child(
  sim: Simulator,
  dataDir: string,
  mode: 'act' | 'resume' | 'env',
  killAfter?: number,
  env: NodeJS.ProcessEnv = process.env,
) {
  return new Promise<{ code: number | null; signal: string | null; lines: string[]; stderr: string }>(
    (resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', CHILD, sim.url, TENANT, dataDir, mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      })
      const lines: string[] = []
      let stderr = ''
      let buffer = ''
      p.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        const parts = buffer.split('\n')
        buffer = parts.pop() ?? ''
        lines.push(...parts)
        if (killAfter !== undefined && lines.length >= killAfter) p.kill('SIGKILL')
      })
      p.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      p.on('error', reject)
      p.on('close', (code, signal) => resolve({ code, signal, lines, stderr }))
    },
  )
}

describe('kill -9 during an act, then --resume in a new process', () => {
  it('killed twice (mid-act, then mid-resume), every PATCH is made exactly once', async () => {
    const dataDir = tempDir()
    cpSync(template, dataDir, { recursive: true })
    // A little latency per request, so the kills land while calls are in flight.
    const sim = await startSimulator({ data: simulatorData(DEVICES), faults: { latencyMs: 3 } })
    try {
      const first = await child(sim, dataDir, 'act', 3)
      expect(first.signal, first.stderr).toBe('SIGKILL')
      const second = await child(sim, dataDir, 'resume', 12)
      expect(second.signal, second.stderr).toBe('SIGKILL')
      const last = await child(sim, dataDir, 'resume')
      expect(last.code, last.stderr).toBe(0)
      const patches = patchesByTarget(sim)
      expect(patches.size).toBe(DEVICES)
      expect([...patches.values()].every((n) => n === 1)).toBe(true)
      expect(sim.calls()).toHaveLength(DEVICES)
      // The resumed act reports every step of the act as stored.
      const line = last.lines.find((l) => l.startsWith('result '))!
      const result = JSON.parse(line.slice('result '.length)) as { steps: { state: string }[] }
      expect(result.steps.map((st) => st.state)).toEqual(Array(DEVICES).fill('done'))
    } finally {
      await sim.close()
    }
  }, 40_000)

  it('signs in from the OFFBOARD_* variables like the CLI, against the simulator over HTTPS', async () => {
    const dataDir = tempDir()
    cpSync(template, dataDir, { recursive: true })
    const sim = await startSimulator({ data: simulatorData(DEVICES), https: true })
    try {
      const run = await child(sim, dataDir, 'env', undefined, {
        ...process.env,
        NODE_EXTRA_CA_CERTS: sim.caPath!,
        OFFBOARD_TENANT_ID: sim.tenantId,
        OFFBOARD_CLIENT_ID: 'offboard-sim',
        OFFBOARD_CLIENT_SECRET: 'offboard-sim-secret',
        OFFBOARD_GRAPH_URL: sim.graphBaseUrl,
        OFFBOARD_DEFENDER_URL: sim.defenderBaseUrl,
        OFFBOARD_AUTHORITY_HOST: sim.authorityHost,
        OFFBOARD_USER: 'alice',
      })
      expect(run.code, run.stderr).toBe(0)
      const line = run.lines.find((l) => l.startsWith('result '))!
      expect(JSON.parse(line.slice('result '.length)).counts).toEqual({ done: DEVICES })
      expect(patchesByTarget(sim).size).toBe(DEVICES)
    } finally {
      await sim.close()
    }
  }, 40_000)
})
