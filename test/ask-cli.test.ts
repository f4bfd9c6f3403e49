/**
 * @module End-to-end tests of `offboard ask` over the built CLI: the seeds' prompt on the demo tenant gives the
 * seeds' shape of answer, report files answer without a store, a configured model is used through the CLI, and
 * `run --snapshot --instructions` applies the instructions.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY } from '../src/domain/policy.js'
import { Report } from '../src/domain/report.js'
import { Answer } from '../src/language/answer.js'
import { finalText, startChatServer, toolCalls } from '../src/language/test-chat-server.js'

const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin/offboard.js')
const work = mkdtempSync(join(tmpdir(), 'offboard-ask-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

// This file's own data folder: runs are recorded in the store by default.
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  NO_COLOR: '1',
  CI: '1',
  OFFBOARD_DATA_DIR: join(work, 'data'),
  DATABASE_URL: '',
}
for (const k of ['OFFBOARD_LLM_BASE_URL', 'OFFBOARD_LLM_MODEL', 'OFFBOARD_LLM_API_KEY']) delete ENV[k]

function offboard(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: ENV })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Asynchronous, so that a server in this process can answer the CLI. */
function offboardAsync(env: NodeJS.ProcessEnv, ...args: string[]) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => {
      stdout += c
    })
    child.stderr.on('data', (c) => {
      stderr += c
    })
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

const SEED =
  'Find all devices that were removed from Intune but might still exist in Microsoft Entra. Provide steps to properly remove them from Entra.'

let report: Report
const reportFile = join(work, 'report.json')

beforeAll(() => {
  const r = offboard('run', '--demo', '--format', 'json', '-q', '-o', reportFile)
  expect(r.status, r.stderr).toBe(0)
  report = Report.parse(JSON.parse(readFileSync(reportFile, 'utf8')))
}, 120_000)

describe('offboard ask', () => {
  it("answers the seeds' prompt on the demo tenant in the seeds' shape", () => {
    const n = report.summary.counts.byCategory.removedFromIntune!
    expect(n).toBeGreaterThan(0)

    const json = offboard('ask', SEED, '--format', 'json')
    expect(json.status, json.stderr).toBe(0)
    const a = Answer.parse(JSON.parse(json.stdout))
    expect(a.basis.origin).toBe('store')
    expect(a.summary).toBe(
      `There are ${n} devices that are no longer in Intune but still in other portals. These devices should be removed.`,
    )
    expect(a.factors.slice(0, 4)).toEqual([
      'Users accessing corporate apps without MDM enrollment.',
      'Cannot enforce compliance policies or data protection.',
      'Personal devices may have corporate data without proper controls.',
      'Conditional access limited to user-based policies only.',
    ])
    expect(a.steps[0]).toMatch(/^Microsoft Entra: disable/)
    expect(a.devices).toHaveLength(n)
    expect(new Set(a.devices.map((d) => d.category))).toEqual(new Set(['removedFromIntune']))

    const text = offboard('ask', SEED, '--format', 'text')
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(
      new RegExp(
        `^Summary\\nThere are ${n} devices that are no longer in Intune but still in other portals\\.`,
      ),
    )
    const order = ['Factors:', 'Steps:', `Devices (${n}):`].map((h) => text.stdout.indexOf(`\n${h}\n`))
    expect(order.every((i) => i > 0)).toBe(true)
    expect([...order].sort((x, y) => x - y)).toEqual(order)
  })

  it('takes the question unquoted, and refuses what it cannot answer with exit code 0 and the list', () => {
    const r = offboard('ask', '--format', 'text', 'Which', 'users', 'have', 'the', 'most', 'devices?')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/cannot answer this question/)
    expect(r.stdout).toContain('I can answer questions like these:')
  })

  it('answers from a report file without the store, and needs --previous for changes', () => {
    const skipped = offboard('ask', '--report', reportFile, 'Which devices were skipped?', '--format', 'json')
    expect(skipped.status, skipped.stderr).toBe(0)
    expect(Answer.parse(JSON.parse(skipped.stdout)).devices).toHaveLength(report.skipped.length)
    const changes = offboard(
      'ask',
      '--report',
      reportFile,
      '--previous',
      reportFile,
      'What changed since the last run?',
      '--format',
      'json',
    )
    expect(JSON.parse(changes.stdout).summary).toMatch(/^Nothing changed since the previous run/)
  })

  it('names the file and the problem for a file that is not a report', () => {
    const r = offboard('ask', '--report', join(root, 'package.json'), 'Which devices are stale?')
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/package\.json: .*schemaVersion/s)
  })

  it('uses a configured language model through the same queries', async () => {
    const first = report.suggestions.find((s) => s.category === 'stale')!
    const server = await startChatServer([
      toolCalls({ name: 'listDevices', args: { category: 'stale' } }),
      finalText(JSON.stringify({ summary: 'There are stale devices.', deviceIds: [first.id] })),
    ])
    try {
      const env = {
        ...ENV,
        OFFBOARD_LLM_BASE_URL: server.baseUrl,
        OFFBOARD_LLM_MODEL: 'scripted',
        OFFBOARD_LLM_API_KEY: 'k',
      }
      const r = await offboardAsync(
        env,
        'ask',
        '--report',
        reportFile,
        'Which devices are stale?',
        '--format',
        'json',
      )
      expect(r.status, r.stderr).toBe(0)
      const a = Answer.parse(JSON.parse(r.stdout))
      expect(a.engine).toBe('llm')
      expect(a.devices.map((d) => d.suggestionId)).toEqual([first.id])
      const off = await offboardAsync(
        env,
        'ask',
        '--no-llm',
        '--report',
        reportFile,
        'Which devices are stale?',
        '--format',
        'json',
      )
      expect(JSON.parse(off.stdout).engine).toBe('deterministic')
      expect(server.requests).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it('run --instructions goes through a configured model: a narrowing policy applies, a widening one falls back', async () => {
    // As the interpreter splits it: one sentence, without its full stop.
    const sentence = 'Leave devices whose name starts with LT- alone'
    const narrowing = {
      policy: { ...DEFAULT_POLICY, exclude: [{ field: 'name', pattern: 'LT-*', label: sentence }] },
      sentences: [{ sentence, effect: 'devices named LT-* are skipped' }],
    }
    const widening = {
      policy: { ...DEFAULT_POLICY, optIn: ['entra.delete'] },
      sentences: [{ sentence, effect: 'enables Entra delete' }],
    }
    const server = await startChatServer([
      toolCalls({ name: 'proposePolicy', args: narrowing }),
      toolCalls({ name: 'proposePolicy', args: widening }),
    ])
    try {
      const env = {
        ...ENV,
        OFFBOARD_LLM_BASE_URL: server.baseUrl,
        OFFBOARD_LLM_MODEL: 'scripted',
        OFFBOARD_LLM_API_KEY: 'k',
      }
      const args = ['run', '--demo', '--no-store', '--instructions', sentence, '--format', 'json']
      const used = await offboardAsync(env, ...args)
      expect(used.status, used.stderr).toBe(0)
      expect(used.stderr).not.toContain('was not used')
      const excluded = Report.parse(JSON.parse(used.stdout)).skipped.filter(
        (d) => d.reason === 'excludedByPolicy',
      )
      expect(excluded.length).toBeGreaterThan(0)
      expect(excluded.every((d) => d.note?.includes(sentence))).toBe(true)
      // The model asked for more than instructions may do: its policy is not used, the deterministic reading is.
      const fallback = await offboardAsync(env, ...args)
      expect(fallback.stderr).toContain("The language model's interpretation was not used")
      expect(server.requests).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it('refuses a partly configured model as a configuration error', () => {
    const r = spawnSync(process.execPath, [bin, 'ask', '--report', reportFile, 'Which devices are stale?'], {
      encoding: 'utf8',
      env: { ...ENV, OFFBOARD_LLM_MODEL: 'gpt-4o' },
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/configured in part/)
  })
})

describe('run --snapshot --instructions', () => {
  it('applies the instructions to a snapshot run', () => {
    const dir = join(work, 'snapshot')
    expect(offboard('demo', '--out', dir).status).toBe(0)
    const r = offboard(
      'run',
      '--snapshot',
      dir,
      '--no-store',
      '--format',
      'json',
      '--instructions',
      'Only look at Windows. Exclude devices whose name starts with LT-.',
    )
    expect(r.status, r.stderr).toBe(0)
    const narrowed = Report.parse(JSON.parse(r.stdout))
    expect(narrowed.suggestions.length).toBeGreaterThan(0)
    for (const s of narrowed.suggestions) {
      expect(['windows', 'unknown']).toContain(s.device.platform)
      expect(s.device.displayName?.startsWith('LT-')).toBe(false)
    }
    expect(narrowed.skipped.some((s) => s.reason === 'excludedByPolicy' && s.note.includes('LT-'))).toBe(true)
  })
})
