/** @module Tests of the report summary: the seeds' "There are N devices that …" sentence, the counts after it, and the factors. */
import { describe, expect, it } from 'vitest'
import { healthyRecords, onlyView, tenantFromDevice } from '../../test/fixtures/tenant.js'
import type { Category, Skipped, Suggestion } from '../domain/report.js'
import { summarizeDevice } from './device-summary.js'
import { FACTORS, summarize } from './summary.js'

const DEVICE = summarizeDevice(onlyView(tenantFromDevice(healthyRecords())))

function suggestion(category: Category, i = 0): Suggestion {
  return {
    id: `sg-${i.toString(16).padStart(16, '0')}`,
    category,
    severity: 'high',
    rationale: 'Test.',
    device: DEVICE,
    evidence: [],
    actions: [],
    findings: [],
  }
}

const many = (category: Category, n: number): Suggestion[] =>
  Array.from({ length: n }, (_, i) => suggestion(category, i))

const skipped = (wouldBe: Category[] = []): Skipped => ({
  device: DEVICE,
  reason: 'hybridJoined',
  note: 'Hybrid.',
  wouldBe,
})

const SEED_FACTORS = [
  'Users accessing corporate apps without MDM enrollment.',
  'Cannot enforce compliance policies or data protection.',
  'Personal devices may have corporate data without proper controls.',
  'Conditional access limited to user-based policies only.',
]

describe('summarize', () => {
  it('says so when there is nothing to offboard', () => {
    expect(summarize([], [], 0, 90)).toEqual({ text: 'There are no devices to offboard.', factors: [] })
  })

  // The seeds' own summary (001, "agent-response"), word for word.
  it("writes the seeds' sentence for devices removed from Intune", () => {
    expect(summarize(many('removedFromIntune', 23), [], 0, 90).text).toBe(
      'There are 23 devices that are no longer in Intune but still in other portals. These devices should be removed.',
    )
  })

  it("lists the seeds' four factors, in order, for devices removed from Intune", () => {
    expect(summarize(many('removedFromIntune', 23), [], 0, 90).factors).toEqual(SEED_FACTORS)
    expect(FACTORS.removedFromIntune).toEqual(SEED_FACTORS)
  })

  it('uses the singular for one device', () => {
    const { text } = summarize([suggestion('removedFromIntune')], [], 0, 90)

    expect(text).toMatch(/^There is 1 device /)
    expect(text).toContain('no longer in Intune but still in other portals.')
    expect(text).toContain('This device should be removed.')
    expect(text).not.toContain('devices')
  })

  it('uses the plural for several devices of one category', () => {
    const { text } = summarize(many('stale', 3), [], 0, 90)

    expect(text).toMatch(/^There are 3 devices /)
    expect(text).toContain('not seen by any source for more than 90 days.')
    expect(text).toContain('These devices should be removed.')
  })

  it('states the staleness window it is given', () => {
    expect(summarize(many('stale', 2), [], 0, 45).text).toContain('for more than 45 days')
  })

  it('lists several categories with their counts, in category order', () => {
    const suggestions = [...many('duplicate', 1), ...many('stale', 2), ...many('removedFromIntune', 3)]

    expect(summarize(suggestions, [], 0, 90).text).toBe(
      'There are 6 devices that should be offboarded: 3 no longer in Intune but still in other portals; ' +
        '2 not seen by any source for more than 90 days; 1 with superseded duplicate records.',
    )
  })

  it('counts review suggestions apart, as no destructive action, in the singular and the plural', () => {
    expect(summarize([...many('stale', 2), suggestion('review')], [], 0, 90).text).toContain(
      ' 1 more device is in use but needs a review (no destructive action).',
    )
    expect(summarize(many('review', 2), [], 0, 90).text).toBe(
      'There are no devices to offboard. 2 more devices are in use but need a review (no destructive action).',
    )
  })

  it('counts skipped devices and those that would otherwise have been flagged', () => {
    expect(summarize([], [skipped(), skipped(['stale'])], 0, 90).text).toBe(
      'There are no devices to offboard. 2 out-of-scope devices were skipped (1 would otherwise have been flagged).',
    )
    expect(summarize([], [skipped()], 0, 90).text).toBe(
      'There are no devices to offboard. 1 out-of-scope device was skipped.',
    )
  })

  it('counts devices that could not be judged', () => {
    expect(summarize([], [], 1, 90).text).toBe(
      'There are no devices to offboard. 1 device could not be judged and is reported as unknown.',
    )
    expect(summarize([], [], 4, 90).text).toContain(
      '4 devices could not be judged and are reported as unknown.',
    )
  })

  it('joins the factors of every category present, without repeats, in category order', () => {
    const { factors } = summarize(
      [...many('review', 1), ...many('stale', 2), ...many('removedFromIntune', 1)],
      [],
      0,
      90,
    )

    expect(factors).toEqual([...SEED_FACTORS, ...FACTORS.stale, ...FACTORS.review])
  })

  it('gives no factors for skipped or undetermined devices alone', () => {
    expect(summarize([], [skipped(['stale'])], 3, 90).factors).toEqual([])
  })
})
