/**
 * @module `offboard mcp` end to end with the official MCP SDK client over stdio: the built command is spawned on a
 * data folder holding a demo run; disables go to the simulator serving the same demo tenant, whose call record is
 * the truth about what changed.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { patchesByTarget } from '../src/actions/test-support.js'
import type { Report } from '../src/domain/report.js'
import { loadSimulatorData, type Simulator, startSimulator } from '../src/simulator/index.js'

const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin/offboard.js')
const work = mkdtempSync(join(tmpdir(), 'offboard-mcp-'))
const DEVICES = 120
const SEED = 1

let sim: Simulator
let report: Report
let env: Record<string, string>
const clients: Client[] = []

function offboard(user: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...env, OFFBOARD_USER: user },
  })
  if (r.status !== 0) throw new Error(`offboard ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

beforeAll(async () => {
  sim = await startSimulator({ data: await loadSimulatorData({ devices: DEVICES, seed: SEED }), https: true })
  const base = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  )
  env = {
    ...base,
    NO_COLOR: '1',
    CI: '1',
    OFFBOARD_DATA_DIR: join(work, 'data'),
    DATABASE_URL: '',
    NODE_EXTRA_CA_CERTS: sim.caPath!,
    OFFBOARD_TENANT_ID: sim.tenantId,
    OFFBOARD_CLIENT_ID: 'offboard-sim',
    OFFBOARD_CLIENT_SECRET: 'offboard-sim-secret',
    OFFBOARD_GRAPH_URL: sim.graphBaseUrl,
    OFFBOARD_DEFENDER_URL: sim.defenderBaseUrl,
    OFFBOARD_AUTHORITY_HOST: sim.authorityHost,
  }
  // `run --demo` evaluates the same deterministic tenant the simulator serves (its own simulator, in process).
  report = JSON.parse(
    offboard(
      'alice',
      'run',
      '--demo',
      '--devices',
      String(DEVICES),
      '--seed',
      String(SEED),
      '--format',
      'json',
    ),
  ) as Report
  offboard('alice', 'user', 'add', 'alice', '--role', 'admin')
  offboard('alice', 'user', 'add', 'rita', '--role', 'reader')
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.close()
  await sim?.close()
  rmSync(work, { recursive: true, force: true })
})

/** Starts `offboard mcp --as USER` and connects the SDK client to it; protocol errors are collected. */
async function connect(user: string): Promise<{ client: Client; errors: Error[] }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, 'mcp', '--as', user],
    env,
    stderr: 'pipe',
  })
  const client = new Client({ name: 'offboard-test', version: '1.0.0' })
  const errors: Error[] = []
  client.onerror = (e) => errors.push(e)
  await client.connect(transport)
  clients.push(client)
  return { client, errors }
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n')
}

/** The JSON of a successful result: its last content item. */
function json<T = Record<string, unknown>>(r: CallToolResult): T {
  expect(r.isError, text(r)).toBeFalsy()
  const last = r.content.at(-1)!
  if (last.type !== 'text') throw new Error('the last content item is not text')
  return JSON.parse(last.text) as T
}

/** Windows suggestions whose plan has the Entra disable offboard runs itself (mobile ones need another Entra role). */
function disablable(): Report['suggestions'] {
  return report.suggestions.filter(
    (s) =>
      s.device.platform === 'windows' &&
      s.actions.some((a) => a.system === 'entra' && a.operation === 'disable' && a.automation === 'agent'),
  )
}

function audit(): { action: string; actor: string; result: string; target: string | null }[] {
  return JSON.parse(offboard('alice', 'logs', '--format', 'json'))
}

describe('offboard mcp over stdio', () => {
  it('lists its tools and answers each read tool from the stored run', async () => {
    const { client, errors } = await connect('rita')
    const tools = (await client.listTools()).tools
    expect(tools.map((t) => t.name).sort()).toEqual([
      'disable_devices',
      'explain_device',
      'query_suggestions',
      'summary',
      'tasks',
    ])
    expect(tools.find((t) => t.name === 'disable_devices')?.annotations?.destructiveHint).toBe(true)

    const summary = json<{
      summary: { counts: { devices: number; suggestions: number } }
      run: { id: string }
    }>(await call(client, 'summary'))
    expect(summary.summary.counts.devices).toBe(DEVICES)
    expect(summary.summary.counts.suggestions).toBe(report.suggestions.length)

    const page = json<{
      total: number
      returned: number
      nextOffset: number | null
      suggestions: { id: string }[]
    }>(await call(client, 'query_suggestions', { limit: 3 }))
    expect(page.total).toBe(report.suggestions.length)
    expect(page.suggestions.map((s) => s.id)).toEqual(report.suggestions.slice(0, 3).map((s) => s.id))
    expect(page.nextOffset).toBe(3)
    const second = json<{ suggestions: { id: string }[] }>(
      await call(client, 'query_suggestions', { limit: 3, offset: 3 }),
    )
    expect(second.suggestions.map((s) => s.id)).toEqual(report.suggestions.slice(3, 6).map((s) => s.id))

    const stale = json<{ total: number; suggestions: { category: string }[] }>(
      await call(client, 'query_suggestions', { category: 'stale', limit: 200 }),
    )
    expect(stale.total).toBe(report.suggestions.filter((s) => s.category === 'stale').length)
    expect(stale.suggestions.every((s) => s.category === 'stale')).toBe(true)

    const target = report.suggestions[0]!
    const byText = json<{ suggestions: { id: string }[] }>(
      await call(client, 'query_suggestions', { text: target.device.ids.entraObjectId ?? target.id }),
    )
    expect(byText.suggestions.map((s) => s.id)).toContain(target.id)

    const explained = json<{ id: string; rationale: string; evidence: unknown[]; plan: unknown[] }>(
      await call(client, 'explain_device', { suggestionId: target.id }),
    )
    expect(explained.rationale).toBe(target.rationale)
    expect(explained.evidence).toEqual(target.evidence)
    expect(explained.plan).toHaveLength(target.actions.length)

    const missing = await call(client, 'explain_device', { device: 'NO-SUCH-DEVICE-42' })
    expect(missing.isError).toBe(true)
    expect(text(missing)).toContain('"NO-SUCH-DEVICE-42"')

    offboard('alice', 'task', 'add', target.id)
    const tasks = json<{ suggestionId: string; stillFlagged: boolean }[]>(await call(client, 'tasks'))
    expect(tasks).toEqual([expect.objectContaining({ suggestionId: target.id, stillFlagged: true })])
    expect(json<unknown[]>(await call(client, 'tasks', { status: 'completed' }))).toEqual([])

    // Bad input is a tool error naming the field; the server keeps serving.
    const bad = await call(client, 'query_suggestions', { limit: 0 })
    expect(bad.isError).toBe(true)
    expect(text(bad)).toMatch(/limit/)
    expect(json(await call(client, 'summary'))).toHaveProperty('run')
    expect(errors).toEqual([])
  }, 120_000)

  it('refuses a reader the disable, audits the refusal, and calls nothing', async () => {
    const { client } = await connect('rita')
    const r = await call(client, 'disable_devices', { suggestionIds: [disablable()[0]!.id] })
    expect(r.isError).toBe(true)
    expect(text(r)).toMatch(/rita \(role reader\) may not disable devices; that needs the actor role/)
    expect(sim.calls()).toEqual([])
    expect(audit()).toContainEqual(
      expect.objectContaining({ action: 'permission.denied', actor: 'rita', target: 'disableDevices' }),
    )
  }, 60_000)

  it('disables only after a dry run of the same selection, confirmed with its id', async () => {
    const { client, errors } = await connect('alice')
    const [a, b] = disablable()
    const ids = [a!.id, b!.id]

    const dry = json<{ dryRunId: string; steps: { state: string; target: string }[] }>(
      await call(client, 'disable_devices', { suggestionIds: ids }),
    )
    expect(dry.steps.map((s) => s.state)).toEqual(['wouldRun', 'wouldRun'])
    expect(dry.dryRunId).toMatch(/^[0-9a-f-]{36}$/)
    // The dry run only read: no PATCH reached the tenant.
    expect(sim.calls().filter((c) => c.method !== 'GET')).toEqual([])

    const noId = await call(client, 'disable_devices', { suggestionIds: ids, confirm: true })
    expect(noId.isError).toBe(true)
    expect(text(noId)).toContain('needs the dryRunId')
    const madeUp = await call(client, 'disable_devices', {
      suggestionIds: ids,
      confirm: true,
      dryRunId: '00000000-0000-4000-8000-000000000000',
    })
    expect(madeUp.isError).toBe(true)
    expect(text(madeUp)).toContain('no open dry run')
    // A dry run of two devices does not confirm a different selection, and is spent by the attempt.
    const other = await call(client, 'disable_devices', {
      suggestionIds: [a!.id],
      confirm: true,
      dryRunId: dry.dryRunId,
    })
    expect(other.isError).toBe(true)
    expect(text(other)).toContain('another selection')
    const reused = await call(client, 'disable_devices', {
      suggestionIds: ids,
      confirm: true,
      dryRunId: dry.dryRunId,
    })
    expect(reused.isError).toBe(true)
    expect(sim.calls().filter((c) => c.method !== 'GET')).toEqual([])

    const again = json<{ dryRunId: string; steps: { target: string }[] }>(
      await call(client, 'disable_devices', { suggestionIds: ids }),
    )
    const done = json<{ actId: string; counts: Record<string, number>; steps: { state: string }[] }>(
      await call(client, 'disable_devices', { suggestionIds: ids, confirm: true, dryRunId: again.dryRunId }),
    )
    expect(done.counts).toEqual({ done: 2 })
    const patched = patchesByTarget(sim)
    expect([...patched.keys()].sort()).toEqual(again.steps.map((s) => `/v1.0/devices/${s.target}`).sort())
    expect([...patched.values()]).toEqual([1, 1])

    const log = audit()
    expect(log.filter((e) => e.action === 'action.entra.disable' && e.actor === 'alice')).toHaveLength(2)
    expect(log).toContainEqual(
      expect.objectContaining({ action: 'action.act.finish', actor: 'alice', target: done.actId }),
    )
    expect(errors).toEqual([])
  }, 120_000)
})
