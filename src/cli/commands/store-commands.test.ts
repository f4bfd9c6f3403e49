/** @module The store-backed commands end to end in-process: every one has --help and JSON output; errors are the agent's own. */
import { Command, CommanderError } from 'commander'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { completeRun, startRun } from '../../agent/runs.js'
import { fakeReport } from '../../agent/test-fixtures.js'
import type { Store } from '../../store/store.js'
import { testBackends } from '../../store/test-backends.js'
import { registerAgent } from './agent.js'
import { registerLogs } from './logs.js'
import { type RunOnce, registerServe } from './serve.js'
import { registerSuggestions } from './suggestions.js'
import { registerTasks } from './tasks.js'
import { registerUsers } from './users.js'

const TENANT = 'contoso'

interface Cli {
  run(...args: string[]): Promise<string>
  json<T = unknown>(...args: string[]): Promise<T>
}

function cli(store: Store, opts: { user?: string; runOnce?: RunOnce } = {}): Cli {
  const build = (out: string[]) => {
    const deps = {
      openStore: async () => ({ ...store, close: async () => {} }),
      env: { OFFBOARD_USER: opts.user ?? 'alice' },
      write: async (text: string) => {
        out.push(text)
      },
    }
    const program = new Command().name('offboard').exitOverride()
    program.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) })
    registerAgent(program, deps)
    registerSuggestions(program, deps)
    registerTasks(program, deps)
    registerLogs(program, deps)
    registerUsers(program, deps)
    registerServe(program, opts.runOnce ?? (async () => {}), {
      ...deps,
      signals: false,
    })
    return program
  }
  const run = async (...args: string[]) => {
    const out: string[] = []
    await build(out).parseAsync(['node', 'offboard', ...args])
    return out.join('')
  }
  return { run, json: async (...args) => JSON.parse(await run(...args, '--format', 'json')) }
}

/** Every command path, e.g. ['agent', 'instructions', 'set']. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])])
}

describe.each(testBackends())('store commands on $name', (backend) => {
  beforeAll(() => backend.setup(), 60_000)
  afterEach(() => backend.cleanup())
  afterAll(() => backend.teardown())

  it('every command answers --help with a summary and its options', async () => {
    const store = await backend.create()
    const program = new Command().exitOverride()
    const noop = {}
    registerAgent(program, noop)
    registerSuggestions(program, noop)
    registerTasks(program, noop)
    registerLogs(program, noop)
    registerUsers(program, noop)
    registerServe(program, async () => {}, noop)
    const paths = commandPaths(program)
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining([
        'agent create',
        'agent show',
        'agent renew',
        'agent remove',
        'agent instructions set',
        'suggestions',
        'suggestion show',
        'tasks',
        'task add',
        'task assign',
        'task status',
        'task comment',
        'task complete',
        'logs',
        'user add',
        'users',
        'serve',
      ]),
    )
    for (const path of paths) {
      const help = await cli(store)
        .run(...path, '--help')
        .catch((e) => {
          expect(e).toBeInstanceOf(CommanderError)
          expect((e as CommanderError).exitCode).toBe(0)
          return ''
        })
      expect(help === '' || help.includes('Usage:')).toBe(true)
    }
    const out: string[] = []
    const p = new Command().exitOverride().configureOutput({ writeOut: (s) => out.push(s) })
    registerAgent(p, noop)
    await p.parseAsync(['node', 'x', 'agent', 'create', '--help']).catch(() => {})
    expect(out.join('')).toMatch(/--admin <upn>[\s\S]*--schedule-hours <n>[\s\S]*--format <format>/)
  })

  it('agent create / show / instructions / renew / remove, in JSON and as a table', async () => {
    const store = await backend.create()
    const c = cli(store)
    const created = await c.json<{ tenantId: string; expiresAt: string }>(
      'agent',
      'create',
      '--tenant',
      TENANT,
      '--admin',
      'admin@contoso.com',
      '--schedule-hours',
      '12',
    )
    expect(created).toMatchObject({ tenantId: TENANT, scheduleHours: 12, authMethod: 'deviceCode' })
    const table = await c.run('agent', 'show', '--format', 'table')
    expect(table).toMatch(/admin identity: +admin@contoso.com/)
    expect(table).toMatch(/identity: +active; expires \d{4}-\d\d-\d\d/)
    expect(table).toContain("not scheduled: no 'offboard serve' is running")
    await c.json('agent', 'instructions', 'set', 'Exclude devices whose name starts with LAB-.')
    expect(await c.json('agent', 'instructions', 'show')).toEqual({
      tenantId: TENANT,
      instructions: 'Exclude devices whose name starts with LAB-.',
    })
    // An instruction offboard cannot interpret is refused, quoted, and the saved ones stay.
    await expect(c.json('agent', 'instructions', 'set', 'Leave LAB devices alone.')).rejects.toThrow(
      /"Leave LAB devices alone"/,
    )
    expect(await c.json('agent', 'instructions', 'show')).toMatchObject({
      instructions: 'Exclude devices whose name starts with LAB-.',
    })
    await expect(c.json('agent', 'renew')).resolves.toMatchObject({ expired: false })
    await expect(c.json('agent', 'remove')).resolves.toMatchObject({ tenantId: TENANT })
    await expect(c.run('agent', 'show')).rejects.toThrow(/has no agent/)
  })

  it('suggestions, suggestion show, tasks and task changes', async () => {
    const store = await backend.create()
    const run = await startRun(store, { tenantId: TENANT, trigger: 'manual', actor: 'alice' })
    await completeRun(
      store,
      run.id,
      fakeReport(TENANT, [1, { device: 2, platform: 'macOS', category: 'duplicate' }]),
    )
    const c = cli(store)
    expect(await c.json<unknown[]>('suggestions')).toHaveLength(2)
    expect(await c.json<{ id: string }[]>('suggestions', '--platform', 'macOS')).toMatchObject([
      { id: 'sg-0000000000000002' },
    ])
    const csv = await c.run('suggestions', '--format', 'csv')
    expect(csv.split('\r\n')[0]).toBe(
      'id,category,severity,platform,displayName,serialNumber,status,assignee,taskId,firstSeenAt,entraObjectId,entraDeviceId,intuneDeviceId,autopilotId,defenderMachineId,rationale',
    )
    const shown = await c.run('suggestion', 'show', 'sg-0000000000000002', '--format', 'table')
    expect(shown).toMatch(/rationale: +PC-2 has not signed in/)
    expect(shown).toContain('Evidence:')

    const task = await c.json<{ id: number }>('task', 'add', 'sg-0000000000000001')
    await c.json('task', 'assign', String(task.id), 'bob')
    await c.json('task', 'status', String(task.id), 'inProgress')
    await c.json('task', 'comment', String(task.id), 'Owner contacted.')
    await expect(c.run('task', 'status', String(task.id), 'paused')).rejects.toBeInstanceOf(CommanderError)
    expect(await c.json('task', 'complete', String(task.id))).toMatchObject({
      status: 'completed',
      assignee: 'bob',
      stillFlagged: true,
      commentCount: 1,
    })
    expect(await c.json('tasks', '--status', 'completed')).toMatchObject([{ id: task.id }])
    expect(await c.run('tasks', '--format', 'table')).toMatch(/still flagged[\s\S]*yes/)
  })

  it('users and roles; a denied command fails with PermissionDenied and is in the log', async () => {
    const store = await backend.create()
    await cli(store).json('user', 'add', 'alice', '--role', 'admin')
    await cli(store).json('user', 'add', 'bob', '--role', 'reader')
    expect(await cli(store).json('users')).toMatchObject([
      { name: 'alice', role: 'admin' },
      { name: 'bob', role: 'reader' },
    ])
    await expect(
      cli(store, { user: 'bob' }).run('agent', 'create', '--tenant', TENANT, '--admin', 'a@contoso.com'),
    ).rejects.toThrow(/user bob \(role reader\) may not configure the agent/)
    const log = await cli(store).json<{ action: string; actor: string }[]>('logs')
    expect(log.at(-1)).toMatchObject({ action: 'permission.denied', actor: 'bob' })
  })

  it('logs --since, and --verify that passes, then fails after tampering', async () => {
    const store = await backend.create()
    const c = cli(store)
    await c.json('user', 'add', 'alice', '--role', 'admin')
    await c.json('agent', 'create', '--tenant', TENANT, '--admin', 'admin@contoso.com')
    expect(await c.json('logs', '--since', '1h')).toHaveLength(2)
    expect(await c.json('logs', '--since', '2999-01-01T00:00:00Z')).toEqual([])
    expect(await c.run('logs', '--format', 'table')).toMatch(/agent\.create/)
    expect(await c.json('logs', '--verify')).toMatchObject({ ok: true, entries: 2 })
    await sql`alter table audit_log disable trigger user`.execute(store.db)
    await sql`update audit_log set actor = 'mallory' where seq = 2`.execute(store.db)
    await sql`alter table audit_log enable trigger user`.execute(store.db)
    await expect(c.run('logs', '--verify')).rejects.toThrow(
      /the audit log fails verification at entry 2 \(altered\)/,
    )
  })

  it('serve runs the agent on schedule through the owner-provided runOnce', async () => {
    const store = await backend.create()
    await cli(store).json('agent', 'create', '--tenant', TENANT, '--admin', 'admin@contoso.com')
    const calls: string[] = []
    let stop: () => void = () => {}
    const out: string[] = []
    const program = new Command().exitOverride()
    registerServe(
      program,
      async (ctx) => {
        calls.push(`${ctx.tenantId}:${ctx.trigger}`)
        stop()
      },
      {
        openStore: async () => ({ ...store, close: async () => {} }),
        env: { OFFBOARD_USER: 'alice' },
        write: async (t) => {
          out.push(t)
        },
        signals: false,
        onStart: (h) => {
          stop = () => void h.stop()
        },
      },
    )
    await program.parseAsync(['node', 'offboard', 'serve', '--format', 'json'])
    expect(calls).toEqual([`${TENANT}:schedule`])
    const events = out.map((l) => JSON.parse(l).event)
    expect(events).toEqual(['schedule', 'runStarting', 'runFinished', 'stopped'])
  })
})
