/** @module Tests of the join-key normalisers: GUIDs and serial numbers, including firmware placeholders. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blankToNull, normalizeGuid, normalizeSerial } from './ids.js'

describe('normalizeGuid', () => {
  it.each<[string, string | null | undefined, string | null]>([
    ['lower-case stays', '58bd2f7e-a459-4c94-a962-c2192982c154', '58bd2f7e-a459-4c94-a962-c2192982c154'],
    ['upper-case is lowered', '58BD2F7E-A459-4C94-A962-C2192982C154', '58bd2f7e-a459-4c94-a962-c2192982c154'],
    [
      'mixed case and padding',
      '  58Bd2F7e-A459-4c94-A962-c2192982C154\t',
      '58bd2f7e-a459-4c94-a962-c2192982c154',
    ],
    ['empty string is unset', '', null],
    ['blank string is unset', '   ', null],
    ['null is unset', null, null],
    ['undefined is unset', undefined, null],
    ['all-zero GUID is unset', '00000000-0000-0000-0000-000000000000', null],
    ['all-zero GUID without hyphens is unset', '00000000000000000000000000000000', null],
    ['padded all-zero GUID is unset', ' 00000000-0000-0000-0000-000000000000 ', null],
    [
      'a GUID with one non-zero digit is kept',
      '00000000-0000-0000-0000-000000000001',
      '00000000-0000-0000-0000-000000000001',
    ],
    [
      'a 40-hex Defender id is kept, lowered',
      '99C69BB0A77C268850750273F9D157F059D878C5',
      '99c69bb0a77c268850750273f9d157f059d878c5',
    ],
  ])('%s', (_name, raw, expected) => {
    expect(normalizeGuid(raw)).toBe(expected)
  })

  it('is idempotent and case-insensitive', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const once = normalizeGuid(id.toUpperCase())
        expect(normalizeGuid(once)).toBe(once)
        expect(once).toBe(normalizeGuid(id))
      }),
      { numRuns: 200 },
    )
  })
})

describe('normalizeSerial', () => {
  it.each<[string, string | null | undefined, string | null]>([
    ['upper-case stays', 'PF3KX9Q1', 'PF3KX9Q1'],
    ['lower-case is raised', 'pf3kx9q1', 'PF3KX9Q1'],
    ['surrounding whitespace is trimmed', '  PF3KX9Q1 \t', 'PF3KX9Q1'],
    ['inner spaces are removed', 'PF3K X9Q1', 'PF3KX9Q1'],
    ['inner tabs and runs of spaces are removed', 'pf3k\t x9 q1', 'PF3KX9Q1'],
    ['hyphens are kept', 'VMware-42 1a', 'VMWARE-421A'],
    ['four characters is long enough', 'ab12', 'AB12'],
    ['three characters is too short', 'ab1', null],
    ['"0" is too short', '0', null],
    ['empty', '', null],
    ['blank', '    ', null],
    ['null', null, null],
    ['undefined', undefined, null],
    ['"To be filled by O.E.M."', 'To be filled by O.E.M.', null],
    ['"To Be Filled By O.E.M" without the last dot', 'To Be Filled By O.E.M', null],
    ['"TO BE FILLED BY OEM"', 'TO BE FILLED BY OEM', null],
    ['"Default string"', 'Default string', null],
    ['"Default_String"', 'Default_String', null],
    ['"System Serial Number"', 'System Serial Number', null],
    ['"Chassis Serial Number"', 'Chassis Serial Number', null],
    ['"Not Specified"', 'Not Specified', null],
    ['"Not Applicable"', 'Not Applicable', null],
    ['"None"', 'None', null],
    ['"NULL"', 'NULL', null],
    ['"Unknown"', 'Unknown', null],
    ['"Invalid"', 'Invalid', null],
    ['"0123456789"', '0123456789', null],
    ['"123456789"', '123456789', null],
    ['"1234567890"', '1234567890', null],
    ['repeated zeros', '0000000', null],
    ['repeated zeros with spaces', '0000 0000', null],
    ['repeated letters in mixed case', 'xXxX', null],
    ['repeated "F"', 'FFFFFFFFFFFF', null],
    ['two alternating characters are a real value', 'ABABABAB', 'ABABABAB'],
    ['a placeholder word inside a real serial is kept', 'OEM-12345', 'OEM-12345'],
  ])('%s', (_name, raw, expected) => {
    expect(normalizeSerial(raw)).toBe(expected)
  })

  it('is idempotent on its own output', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 20 }),
          fc.string({
            unit: fc.constantFrom('a', 'B', '0', '1', ' ', '\t', '.', '-', '_', '/'),
            maxLength: 14,
          }),
          fc.constantFrom('To be filled by O.E.M.', 'Default string', ' pf3kx9q1 ', 'PF3K X9Q1', 'ß ß ß'),
        ),
        (raw) => {
          const once = normalizeSerial(raw)
          if (once !== null) expect(normalizeSerial(once)).toBe(once)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('ignores case and surrounding or inner whitespace', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), fc.nat(3), (raw, pad) => {
        const spaces = ' '.repeat(pad)
        const spaced = `${spaces}${raw.slice(0, 2)} ${raw.slice(2)}${spaces}`
        expect(normalizeSerial(spaced.toLowerCase())).toBe(normalizeSerial(raw.toUpperCase()))
      }),
      { numRuns: 200 },
    )
  })
})

describe('blankToNull', () => {
  it.each<[string | null | undefined, string | null]>([
    ['  LT-0107 ', 'LT-0107'],
    ['', null],
    ['   ', null],
    [null, null],
    [undefined, null],
  ])('%j → %j', (raw, expected) => {
    expect(blankToNull(raw)).toBe(expected)
  })
})
