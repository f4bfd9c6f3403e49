/**
 * @module Runs the built CLI on every scenario folder under test/scenarios (the shared samples, copied as data, and
 * offboard's own) and checks each report against its expected.json — end to end, over the real entry point.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Report } from '../src/domain/report.js'
import { checkReport, type Expected } from './scenario-check.js'

const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin/offboard.js')
const scenariosDir = join(import.meta.dirname, 'scenarios')
// Runs are recorded in the store: give this file a data folder of its own.
const dataDir = mkdtempSync(join(tmpdir(), 'offboard-scenarios-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))
const scenarios = readdirSync(scenariosDir)
  .filter((d) => existsSync(join(scenariosDir, d, 'expected.json')))
  .sort()

describe('scenarios', () => {
  it("finds the shared samples and offboard's own", () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(7)
    expect(existsSync(join(root, 'dist/cli/main.js')), 'run `npm run build` first (npm test does)').toBe(true)
  })

  it.each(scenarios)('%s', (name) => {
    const dir = join(scenariosDir, name)
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected
    const args = [bin, 'run', '--snapshot', dir, '--as-of', expected.takenAt, '--format', 'json']
    if (expected.instructions) args.push('--instructions', expected.instructions)
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', OFFBOARD_DATA_DIR: dataDir, DATABASE_URL: '' },
    })
    const wantExit = expected.exitCode ?? 0
    if (wantExit !== 'any')
      expect(r.status === 0, `exit ${r.status}; stderr: ${r.stderr}`).toBe(wantExit === 0)
    if (expected.stderrMatches) expect(r.stderr).toMatch(new RegExp(expected.stderrMatches, 'i'))
    if (r.status !== 0) {
      // A failed run prints nothing on stdout: no half report.
      expect(r.stdout).toBe('')
      return
    }
    const report = Report.parse(JSON.parse(r.stdout))
    expect(checkReport(report, expected)).toEqual([])
  })
})
