/** @module End-to-end tests of the built `offboard` command: usage errors, bad input, outputs, and the demo tenant. */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Report } from '../src/domain/report.js'
import { reportJsonSchema } from '../src/report/json-schema.js'

const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin/offboard.js')
const scenarios = join(import.meta.dirname, 'scenarios')
const work = mkdtempSync(join(tmpdir(), 'offboard-cli-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

// Each test file has its own data folder: runs are recorded in the store by default.
const dataDir = join(work, 'data')
const ENV = { ...process.env, NO_COLOR: '1', CI: '1', OFFBOARD_DATA_DIR: dataDir, DATABASE_URL: '' }

function offboard(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: ENV })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}
const AS_OF = '2026-11-01T00:00:00Z'

describe('usage', () => {
  it('--help lists the commands and a quick start', () => {
    const r = offboard('--help')
    expect(r.status).toBe(0)
    for (const word of ['run', 'demo', 'schema', 'Quick start']) expect(r.stdout).toContain(word)
  })

  it('run --help documents every option, the snapshot files and the exit codes', () => {
    const r = offboard('run', '--help')
    expect(r.status).toBe(0)
    for (const word of [
      '--snapshot',
      '--demo',
      '--as-of',
      '--format',
      '--policy',
      '--stale-after',
      '--out',
      'managedDevices.json',
      'machines.json',
      'Exit codes',
    ]) {
      expect(r.stdout).toContain(word)
    }
  })

  it.each([
    [['run', '--demo', '--colour'], /unknown option '--colour'/],
    [['run'], /--snapshot <dir>, --demo, or configure a live tenant/],
    [['run', '--demo', '--format', 'xml'], /xml.*invalid|Allowed choices/i],
    [['run', '--demo', '--as-of', '2026-02-30'], /not a real date/],
    [['run', '--demo', '--stale-after', '10'], /at least 30/],
    [['run', '--demo', '--devices', 'many'], /whole number/],
    [['run', '--snapshot', scenarios, '--demo'], /cannot be used together/],
    [['frobnicate'], /unknown command/],
  ])('offboard %j is a usage error (exit 2) with nothing on stdout', (args, message) => {
    const r = offboard(...(args as string[]))
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe('')
  })
})

describe('bad input', () => {
  it('names a folder that does not exist', () => {
    const r = offboard('run', '--snapshot', join(work, 'nope'), '--format', 'json')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/nope.*does not exist/)
    expect(r.stdout).toBe('')
  })

  it('names the file, record, id and field of an invalid record', () => {
    const dir = join(work, 'bad-record')
    cpSync(join(scenarios, 'removed-from-intune'), dir, { recursive: true })
    const devices = JSON.parse(readFileSync(join(dir, 'devices.json'), 'utf8'))
    devices.value[1].approximateLastSignInDateTime = '2026-13-40T00:00:00Z'
    writeFileSync(join(dir, 'devices.json'), JSON.stringify(devices))
    const r = offboard('run', '--snapshot', dir, '--format', 'json')
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('devices.json')
    expect(r.stderr).toContain('record 2')
    expect(r.stderr).toContain('"51bf1a96-10dc-4d90-af18-963cff86d533"')
    expect(r.stderr).toContain('approximateLastSignInDateTime')
    expect(r.stdout).toBe('')
  })

  it('keeps a previous --out report intact when a later run fails', () => {
    const out = join(work, 'kept.json')
    expect(offboard('run', '--snapshot', join(scenarios, 'healthy-fleet'), '--out', out).status).toBe(0)
    const before = readFileSync(out, 'utf8')
    const r = offboard('run', '--snapshot', join(scenarios, 'malformed-export'), '--out', out)
    expect(r.status).toBe(1)
    expect(readFileSync(out, 'utf8')).toBe(before)
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('rejects a policy file that does not fit the schema, naming the field', () => {
    const policy = join(work, 'policy-bad.json')
    writeFileSync(policy, JSON.stringify({ staleAfterDays: 7 }))
    const r = offboard(
      'run',
      '--snapshot',
      join(scenarios, 'healthy-fleet'),
      '--policy',
      policy,
      '--format',
      'json',
    )
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/policy-bad\.json.*staleAfterDays/s)
  })
})

describe('outputs', () => {
  it('json is one parseable report that validates against the contract, and nothing else', () => {
    const r = offboard(
      'run',
      '--snapshot',
      join(scenarios, 'removed-from-intune'),
      '--as-of',
      AS_OF,
      '--format',
      'json',
    )
    expect(r.status).toBe(0)
    const report = Report.parse(JSON.parse(r.stdout))
    expect(report.asOf).toBe('2026-11-01T00:00:00.000Z')
    expect(report.summary.text).toMatch(
      /^There is 1 device that is no longer in Intune but still in other portals\./,
    )
    expect(r.stderr).toBe('')
  })

  it('ends quietly when the reader closes the pipe early (offboard run … | head)', async () => {
    const child = spawn(process.execPath, [bin, 'run', '--demo', '--devices', '3000', '--format', 'json'], {
      env: ENV,
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).not.toMatch(/EPIPE|Unhandled/)
    expect(code).toBe(0)
  })

  it('csv starts with the documented header', () => {
    const r = offboard('run', '--snapshot', join(scenarios, 'removed-from-intune'), '--format', 'csv')
    expect(r.status).toBe(0)
    expect(r.stdout.split('\r\n')[0]).toMatch(/^status,suggestionId,category,severity,displayName/)
    expect(r.stdout).toContain('576d0fe3-1b2c-41f8-ad1e-bc8415a6b183')
  })

  it('--debug says where a run spent its time and memory, as JSON lines on stderr', () => {
    const r = offboard('run', '--demo', '--devices', '300', '--format', 'summary', '--debug', '--no-store')
    expect(r.status).toBe(0)
    const events = r.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    const done = events.find((e) => e.event === 'run.evaluate.done')
    expect(done).toMatchObject({ devices: 300 })
    for (const field of ['readMs', 'analyzeMs', 'rssMiB', 'heapUsedMiB', 'heapTotalMiB', 'externalMiB'])
      expect(done?.[field], field).toEqual(expect.any(Number))
    // Resident memory holds the heap in use.
    expect(done!.rssMiB as number).toBeGreaterThanOrEqual(done!.heapUsedMiB as number)
  })

  it('table output has no colour codes when NO_COLOR is set', () => {
    const r = offboard('run', '--snapshot', join(scenarios, 'removed-from-intune'), '--format', 'table')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('LT-0107')
    expect(r.stdout).not.toContain('\u001b[')
  })

  it('applies a policy exclusion and says which rule excluded the device', () => {
    const policy = join(work, 'policy.json')
    writeFileSync(
      policy,
      JSON.stringify({
        exclude: [{ field: 'name', pattern: 'LT-01*', label: 'Leave the LT-01xx pool alone' }],
      }),
    )
    const r = offboard(
      'run',
      '--snapshot',
      join(scenarios, 'removed-from-intune'),
      '--policy',
      policy,
      '--format',
      'json',
    )
    const report = Report.parse(JSON.parse(r.stdout))
    expect(report.suggestions).toEqual([])
    const skip = report.skipped.find(
      (s) => s.device.ids.entraObjectId === '576d0fe3-1b2c-41f8-ad1e-bc8415a6b183',
    )
    expect(skip?.reason).toBe('excludedByPolicy')
    expect(skip?.note).toContain('Leave the LT-01xx pool alone')
  })

  it('ships a JSON Schema file identical to the one generated from the contract', () => {
    const shipped = JSON.parse(readFileSync(join(root, 'schema/report.schema.json'), 'utf8'))
    expect(shipped).toEqual(reportJsonSchema())
    expect(JSON.parse(offboard('schema').stdout)).toEqual(shipped)
  })
})

describe('demo tenant', () => {
  it('run --demo is deterministic and covers every category', () => {
    const a = offboard('run', '--demo', '--format', 'json')
    const b = offboard('run', '--demo', '--format', 'json')
    expect(a.status).toBe(0)
    expect(a.stdout).toBe(b.stdout)
    const report = Report.parse(JSON.parse(a.stdout))
    for (const c of [
      'removedFromIntune',
      'stale',
      'duplicate',
      'defenderOrphan',
      'autopilotLeftover',
      'review',
    ]) {
      expect(report.summary.counts.byCategory[c], c).toBeGreaterThan(0)
    }
    for (const reason of ['hybridJoined', 'sharedDevice', 'teamsPhone', 'ambiguousMatch']) {
      expect(report.summary.counts.bySkipReason[reason], reason).toBeGreaterThan(0)
    }
    expect(report.undetermined.length).toBeGreaterThan(0)
  })

  it('demo --out writes a snapshot that run --snapshot reads to the same suggestions, and refuses a non-empty folder', () => {
    const dir = join(work, 'demo-tenant')
    const w = offboard('demo', '--out', dir, '--devices', '300', '--seed', '7')
    expect(w.status).toBe(0)
    expect(existsSync(join(dir, 'managedDevices.json'))).toBe(true)
    const fromFiles = Report.parse(JSON.parse(offboard('run', '--snapshot', dir, '--format', 'json').stdout))
    const direct = Report.parse(
      JSON.parse(offboard('run', '--demo', '--devices', '300', '--seed', '7', '--format', 'json').stdout),
    )
    expect(fromFiles.suggestions).toEqual(direct.suggestions)
    const again = offboard('demo', '--out', dir)
    expect(again.status).toBe(2)
    expect(again.stderr).toMatch(/not empty/)
    // --force in the other format replaces the JSON files instead of leaving both formats side by side.
    expect(
      offboard('demo', '--out', dir, '--devices', '300', '--seed', '7', '--jsonl', '--force').status,
    ).toBe(0)
    expect(existsSync(join(dir, 'managedDevices.json'))).toBe(false)
    const fromJsonl = Report.parse(JSON.parse(offboard('run', '--snapshot', dir, '--format', 'json').stdout))
    expect(fromJsonl.suggestions).toEqual(direct.suggestions)
  })
})

describe('the store', () => {
  it('records each run, keeps the latest suggestions browsable, and logs the runs in a verifiable audit log', () => {
    const run = offboard('run', '--snapshot', join(scenarios, 'removed-from-intune'), '--format', 'json')
    expect(run.status, run.stderr).toBe(0)
    const report = Report.parse(JSON.parse(run.stdout))
    const stored = JSON.parse(
      offboard('suggestions', '--tenant', report.tenantId!, '--format', 'json').stdout,
    ) as { id: string }[]
    expect(stored.map((s) => s.id)).toEqual(report.suggestions.map((s) => s.id))
    const logs = JSON.parse(offboard('logs', '--format', 'json').stdout) as { action: string }[]
    expect(logs.map((l) => l.action)).toEqual(expect.arrayContaining(['run.start', 'run.finish']))
    const verify = offboard('logs', '--verify', '--format', 'json')
    expect(verify.status).toBe(0)
    expect(JSON.parse(verify.stdout).ok).toBe(true)
  })

  it('--format summary prints the report without its per-device lists; the suggestions are in the store', () => {
    const snapshot = join(scenarios, 'removed-from-intune')
    const full = Report.parse(
      JSON.parse(offboard('run', '--snapshot', snapshot, '--format', 'json', '--no-store').stdout),
    )
    const run = offboard('run', '--snapshot', snapshot, '--format', 'summary')
    expect(run.status, run.stderr).toBe(0)
    const head = JSON.parse(run.stdout) as Record<string, unknown>
    const { suggestions, skipped, undetermined, ...expected } = full
    expect(head).toEqual(expected)
    expect(full.suggestions.length).toBeGreaterThan(0)
    const stored = JSON.parse(
      offboard('suggestions', '--tenant', full.tenantId!, '--format', 'json').stdout,
    ) as { id: string }[]
    expect(stored.map((s) => s.id)).toEqual(suggestions.map((s) => s.id))
    expect(skipped.length + undetermined.length).toBe(
      full.summary.counts.skipped + full.summary.counts.undetermined,
    )
  })

  it('a failed run keeps the previous suggestions', () => {
    const dir = join(work, 'flaky-tenant')
    cpSync(join(scenarios, 'removed-from-intune'), dir, { recursive: true })
    const first = Report.parse(JSON.parse(offboard('run', '--snapshot', dir, '--format', 'json').stdout))
    writeFileSync(join(dir, 'devices.json'), '{"value": [')
    expect(offboard('run', '--snapshot', dir, '--format', 'json').status).toBe(1)
    const stored = JSON.parse(
      offboard('suggestions', '--tenant', first.tenantId!, '--format', 'json').stdout,
    ) as { id: string }[]
    expect(stored.map((s) => s.id)).toEqual(first.suggestions.map((s) => s.id))
  })

  it('a run killed with SIGKILL mid-way leaves the previous suggestions, and the next start marks it failed', async () => {
    const first = Report.parse(
      JSON.parse(offboard('run', '--demo', '--devices', '300', '--format', 'json').stdout),
    )
    const stored = () =>
      (
        JSON.parse(offboard('suggestions', '--tenant', first.tenantId!, '--format', 'json').stdout) as {
          id: string
        }[]
      ).map((x) => x.id)
    expect(stored()).toEqual(first.suggestions.map((x) => x.id))

    // A long run of the same tenant (the demo's tenant depends on the seed only), killed once it has started.
    const starts = () =>
      (JSON.parse(offboard('logs', '--format', 'json').stdout) as { action: string }[]).filter(
        (l) => l.action === 'run.start',
      ).length
    const before = starts()
    const long = spawn(process.execPath, [bin, 'run', '--demo', '--devices', '60000', '--format', 'json'], {
      env: ENV,
    })
    for (let i = 0; i < 200 && starts() === before; i++) await new Promise((r) => setTimeout(r, 100))
    long.kill('SIGKILL')
    await new Promise((r) => long.on('close', r))

    expect(stored()).toEqual(first.suggestions.map((x) => x.id))
    const again = offboard('run', '--demo', '--devices', '300', '--format', 'json')
    expect(again.status, again.stderr).toBe(0)
    const actions = (JSON.parse(offboard('logs', '--format', 'json').stdout) as { action: string }[]).map(
      (l) => l.action,
    )
    expect(actions).toContain('run.fail')
    expect(offboard('logs', '--verify', '--format', 'json').status).toBe(0)
  }, 60_000)

  it('--no-store gives a pure report and writes no data folder', () => {
    const elsewhere = join(work, 'never-created')
    const r = spawnSync(
      process.execPath,
      [bin, 'run', '--snapshot', join(scenarios, 'healthy-fleet'), '--no-store', '--format', 'json'],
      {
        encoding: 'utf8',
        env: { ...ENV, OFFBOARD_DATA_DIR: elsewhere },
      },
    )
    expect(r.status, r.stderr).toBe(0)
    expect(existsSync(elsewhere)).toBe(false)
  })
})
