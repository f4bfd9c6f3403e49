/** @module The chunked JSON report is byte-identical to JSON.stringify(report, null, 2). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { analyze } from '../analyze.js'
import { DEMO_AS_OF, writeDemoSnapshot } from '../demo/generate.js'
import { readSnapshot } from '../snapshot/read-snapshot.js'
import { jsonChunks } from './format-json.js'

const whole = (doc: object): string => [...jsonChunks(doc)].join('')

describe('jsonChunks', () => {
  it('writes a real report exactly as JSON.stringify(report, null, 2), in several chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offboard-json-'))
    try {
      await writeDemoSnapshot(dir, { devices: 2000, seed: 3 })
      const report = analyze(await readSnapshot(dir), { now: Date.parse(DEMO_AS_OF) })
      expect(report.suggestions.length).toBeGreaterThan(100)
      expect([...jsonChunks(report)].length).toBeGreaterThan(1)
      expect(whole(report)).toBe(JSON.stringify(report, null, 2))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('matches JSON.stringify on the edge cases: empty, undefined, nested arrays, strings with line breaks', () => {
    const docs: object[] = [
      {},
      { a: undefined, f: () => 1 },
      { a: [], b: {}, c: null, d: 'x\ny', e: [1, undefined, 'z'], n: [[1, [2]], { k: [] }] },
      { only: [{ deep: { deeper: ['a\nb', { e: [] }] } }] },
      { s: 'line\r\nbreak "quoted" \u2028' },
    ]
    for (const doc of docs) expect(whole(doc)).toBe(JSON.stringify(doc, null, 2))
  })

  it('cuts a large array into chunks of bounded size', () => {
    const doc = { items: Array.from({ length: 20_000 }, (_, i) => ({ i, text: 'x'.repeat(100) })) }
    const chunks = [...jsonChunks(doc)]
    expect(chunks.length).toBeGreaterThan(1)
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(2 * 2 ** 20)
    expect(chunks.join('')).toBe(JSON.stringify(doc, null, 2))
  })
})
