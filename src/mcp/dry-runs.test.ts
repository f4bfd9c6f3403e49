/** @module The dry-run ledger: a confirmation needs an issued, unexpired, unused dry run of the same selection. */
import { describe, expect, it } from 'vitest'
import { UsageError } from '../lib/errors.js'
import { DRY_RUN_TTL_MS, DryRunLedger, MAX_OPEN_DRY_RUNS } from './dry-runs.js'

const record = {
  tenantId: 't1',
  actor: 'alice',
  runId: 'run-1',
  selection: '{"category":"stale"}',
  suggestionIds: ['sg-1'],
  steps: ['entra:disable:e1'],
}
const expect1 = { tenantId: 't1', actor: 'alice', selection: '{"category":"stale"}' }

describe('DryRunLedger', () => {
  it('gives back what the dry run recorded, once', () => {
    const ledger = new DryRunLedger()
    const { dryRunId } = ledger.issue(record)
    expect(ledger.take(dryRunId, expect1)).toEqual(record)
    expect(() => ledger.take(dryRunId, expect1)).toThrow(/no open dry run/)
  })

  it('refuses an expired dry run', () => {
    let now = 1_000
    const ledger = new DryRunLedger(() => now)
    const { dryRunId, expiresAt } = ledger.issue(record)
    expect(expiresAt.getTime()).toBe(1_000 + DRY_RUN_TTL_MS)
    now += DRY_RUN_TTL_MS
    expect(() => ledger.take(dryRunId, expect1)).toThrow(/expired/)
  })

  it.each([
    [{ ...expect1, actor: 'bob' }, /another tenant or user/],
    [{ ...expect1, tenantId: 't2' }, /another tenant or user/],
    [{ ...expect1, selection: '{"all":true}' }, /another selection/],
  ])('refuses a confirmation that does not match its dry run (%j)', (given, message) => {
    const ledger = new DryRunLedger()
    const { dryRunId } = ledger.issue(record)
    expect(() => ledger.take(dryRunId, given)).toThrow(UsageError)
    // The attempt spent it: even the right caller cannot use it afterwards.
    expect(() => ledger.take(dryRunId, expect1)).toThrow(/no open dry run/)
    const again = ledger.issue(record).dryRunId
    expect(() => ledger.take(again, given)).toThrow(message)
  })

  it('forgets the oldest dry runs beyond its bound', () => {
    const ledger = new DryRunLedger()
    const first = ledger.issue(record).dryRunId
    for (let i = 0; i < MAX_OPEN_DRY_RUNS; i++) ledger.issue(record)
    expect(() => ledger.take(first, expect1)).toThrow(/no open dry run/)
  })
})
