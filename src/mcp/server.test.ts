/**
 * @module The MCP server in process (the SDK's in-memory transport): the edges of disable_devices — a dry run
 * the tenant has moved past, selections that are not one — and tenant text kept as data.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { graphOf, planFor, seedTenant, simulatorData, TENANT } from '../actions/test-support.js'
import { addUser } from '../agent/roles.js'
import { completeRun, startRun } from '../agent/runs.js'
import { fakeReport, fakeSuggestion } from '../agent/test-fixtures.js'
import { Report } from '../domain/report.js'
import { type Simulator, startSimulator } from '../simulator/index.js'
import { borrowStore, type Store } from '../store/store.js'
import { testBackends } from '../store/test-backends.js'
import { DryRunLedger } from './dry-runs.js'
import { createMcpServer } from './server.js'

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n')
const json = <T>(r: CallToolResult): T => {
  expect(r.isError, text(r)).toBeFalsy()
  const last = r.content.at(-1)!
  return JSON.parse(last.type === 'text' ? last.text : 'null') as T
}

describe.each(testBackends())('MCP server on $name', (backend) => {
  const closers: (() => Promise<void>)[] = []
  beforeAll(() => backend.setup(), 60_000)
  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    await backend.cleanup()
  })
  afterAll(() => backend.teardown())

  async function connect(store: Store, sim: Simulator | null, actor = 'alice') {
    const server = createMcpServer({
      actor,
      tenant: TENANT,
      env: {},
      openStore: async () => borrowStore(store),
      connect: async () => {
        if (!sim) throw new Error('no simulator in this test')
        return graphOf(sim)
      },
      dryRuns: new DryRunLedger(),
    })
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
    await server.connect(serverSide)
    const client = new Client({ name: 'test', version: '1.0.0' })
    await client.connect(clientSide)
    closers.push(() => client.close())
    return (name: string, args: Record<string, unknown> = {}) =>
      client.callTool({ name, arguments: args }) as Promise<CallToolResult>
  }

  async function withSimulator(devices: number) {
    const sim = await startSimulator({ data: simulatorData(devices) })
    closers.push(() => sim.close())
    return sim
  }

  it('refuses to confirm a dry run once a newer run replaced the suggestions, and calls nothing', async () => {
    const store = await backend.create()
    await seedTenant(store, [1, 2, 3])
    const sim = await withSimulator(3)
    const call = await connect(store, sim)
    const ids = ['sg-0000000000000001', 'sg-0000000000000002']
    const dry = json<{ dryRunId: string }>(await call('disable_devices', { suggestionIds: ids }))
    // A run completes between the dry run and the confirmation: the same ids, a new run.
    const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
    const base = fakeReport(TENANT, [])
    await completeRun(
      store,
      run.id,
      Report.parse({
        ...base,
        suggestions: [1, 2, 3].map((n) => ({ ...fakeSuggestion({ device: n }), actions: planFor(n) })),
      }),
    )
    const r = await call('disable_devices', { suggestionIds: ids, confirm: true, dryRunId: dry.dryRunId })
    expect(r.isError).toBe(true)
    expect(text(r)).toContain(`the tenant's suggestions changed since dry run ${dry.dryRunId}`)
    expect(sim.calls().filter((c) => c.method !== 'GET')).toEqual([])
  })

  it('confirms a category dry run on exactly the suggestions it showed', async () => {
    const store = await backend.create()
    await seedTenant(store, [1, 2, 3, 4])
    const sim = await withSimulator(4)
    const call = await connect(store, sim)
    // Odd devices are "stale" in the fixture: 1 and 3.
    const dry = json<{ dryRunId: string; steps: { suggestionId: string }[] }>(
      await call('disable_devices', { category: 'stale' }),
    )
    expect(dry.steps.map((s) => s.suggestionId)).toEqual(['sg-0000000000000001', 'sg-0000000000000003'])
    const wrongCaps = await call('disable_devices', {
      category: 'stale',
      maxActions: 500,
      confirm: true,
      dryRunId: dry.dryRunId,
    })
    expect(text(wrongCaps)).toContain('another selection')
    const again = json<{ dryRunId: string }>(await call('disable_devices', { category: 'stale' }))
    const done = json<{ counts: Record<string, number> }>(
      await call('disable_devices', { category: 'stale', confirm: true, dryRunId: again.dryRunId }),
    )
    expect(done.counts).toEqual({ done: 2 })
    expect(sim.calls().filter((c) => c.method === 'PATCH')).toHaveLength(2)
  })

  it.each([
    [{ category: 'stale', all: true }, 'exactly one of suggestionIds, category or all'],
    [{}, 'exactly one of suggestionIds, category or all'],
    [{ all: true, dryRunId: 'x' }, 'dryRunId goes with confirm: true'],
    [{ all: true, confirm: true }, 'needs the dryRunId'],
    [{ all: false }, 'Input validation error'],
    [{ suggestionIds: [] }, 'Input validation error'],
  ])('refuses disable_devices %j as a tool error', async (args, message) => {
    const store = await backend.create()
    await seedTenant(store, [1])
    const call = await connect(store, null)
    const r = await call('disable_devices', args)
    expect(r.isError).toBe(true)
    expect(text(r)).toContain(message)
  })

  it('says how to get a first run when there is none', async () => {
    const store = await backend.create()
    await addUser(store, 'alice', 'alice', 'admin')
    const call = await connect(store, null)
    const r = await call('summary')
    expect(r.isError).toBe(true)
    expect(text(r)).toContain(`tenant ${TENANT} has no completed run`)
    expect(text(r)).toContain('How to fix:')
  })

  it('shows control and bidi characters of tenant names escaped', async () => {
    const store = await backend.create()
    const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
    const report = fakeReport(TENANT, [1])
    report.suggestions[0]!.device.displayName = 'PC\u202Eexe.\u001b[2J'
    await completeRun(store, run.id, report)
    const call = await connect(store, null)
    const r = await call('explain_device', { suggestionId: 'sg-0000000000000001' })
    const out = text(r)
    expect(out.includes('\u202E') || out.includes('\u001b')).toBe(false)
    expect(json<{ device: { displayName: string } }>(r).device.displayName).toBe('PC\\u202eexe.\\x1b[2J')
  })
})
