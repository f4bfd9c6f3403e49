/** @module The direct readers give zod's output exactly, or leave the record to zod: never a different answer. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { SOURCES } from './index.js'
import { directReader, internLabel, label, UNDECIDED } from './schema-helpers.js'
import { TeamworkDevice } from './teams/index.js'

/** Values a field can hold in JSON, weighted towards the ones the APIs send and the edges of each helper. */
const fieldValue = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '',
    '   ',
    ' padded ',
    'Windows',
    '19045',
    '0019045',
    '1e3',
    '12.5',
    '2026-03-01T12:34:56Z',
    '2026-03-01T12:34:56.1234567Z',
    '2026-03-01T12:34:56+01:00',
    ' 2026-03-01T12:34:56Z',
    '2026-03-01',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2026-02-30T00:00:00Z',
    'yesterday',
    true,
    false,
    0,
    -0,
    19045,
    12.5,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    [],
    ['[ZTDID]:abc', '[OrderId]:Sales'],
    ['tag', 1],
    {},
  ),
  fc.string(),
  fc.integer(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.anything({ maxDepth: 1 }),
)

const schemas: [string, z.ZodType][] = Object.values(SOURCES).map((def) => [def.name, def.schema])

/**
 * A record that zod accepts (every field absent or null, a real id) with up to three fields set to any value above:
 * most records stay readable, so each field's reader is compared with zod on every kind of value.
 */
function recordOf(schema: z.ZodType) {
  const keys = Object.keys((schema as z.ZodObject).shape)
  const base = fc.record(
    Object.fromEntries(
      keys.map((k) => [
        k,
        k === 'id' ? fc.constantFrom('a', ' B7 ', 'x-1') : fc.constantFrom(undefined, null),
      ]),
    ),
    { requiredKeys: [] },
  )
  const changes = fc.array(fc.tuple(fc.constantFrom(...keys, 'unknownField'), fieldValue), { maxLength: 3 })
  return fc
    .tuple(base, changes)
    .map(([record, set]) => Object.assign(record, Object.fromEntries(set)) as Record<string, unknown>)
}

describe('directReader', () => {
  it.each(schemas)('reads every %s field directly (no field is left to zod alone)', (_name, schema) => {
    expect(directReader(schema)).not.toBeNull()
  })

  it.each(schemas)(
    '%s: gives zod’s output (same fields, same order) or leaves the record to zod, never another answer',
    (_name, schema) => {
      const read = directReader(schema)!
      fc.assert(
        fc.property(fc.oneof({ weight: 9, arbitrary: recordOf(schema) }, fc.anything()), (item) => {
          const direct = read(item)
          const zod = schema.safeParse(item)
          if (direct === UNDECIDED) return
          expect(zod.success).toBe(true)
          expect(direct).toStrictEqual(zod.data)
          expect(Object.keys(direct as object)).toEqual(Object.keys(zod.data as object))
        }),
        { numRuns: 3000 },
      )
    },
  )

  it('reads well-formed records itself, including blank, absent and placeholder values', () => {
    const read = directReader(SOURCES.defender.schema)!
    const item = {
      id: ' 742137D0F6190CAE96EABE7770BF9C84DFE11C23 ',
      computerDnsName: 'mac-0001',
      firstSeen: '2024-12-20T21:50:09Z',
      lastSeen: '0001-01-01T00:00:00Z',
      osBuild: '19045',
      machineTags: null,
      isExcluded: false,
      extra: { nested: true },
    }
    expect(read(item)).toStrictEqual(SOURCES.defender.schema.parse(item))
  })

  it('leaves schemas it cannot read whole to zod', () => {
    // hardwareDetail is a nested object without a direct reader.
    expect(directReader(TeamworkDevice)).toBeNull()
  })
})

describe('label', () => {
  it('gives every value back unchanged, past the pool limit and for long text too, as zod does', () => {
    const values = [...Array.from({ length: 10_050 }, (_, i) => `model ${i}`), 'x'.repeat(500), '', 'Windows']
    for (const v of values) {
      expect(internLabel(v)).toBe(v)
      expect(label.parse(v)).toBe(v)
    }
    expect(label.parse(null)).toBeNull()
    expect(label.parse(undefined)).toBeNull()
    expect(label.safeParse(7).success).toBe(false)
  })
})
