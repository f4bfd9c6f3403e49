/** @module Tests of strict timestamp parsing: real instants, placeholders as unknown, and impossible dates as errors. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DAY_MS, daysBetween, dayText, isoOrNull, isoText, parseInstant, parseTimestamp } from './time.js'

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number =>
  Date.UTC(y, mo - 1, d, h, mi, s, ms)

describe('parseTimestamp: real instants', () => {
  it.each<[string, string, number]>([
    ['Z with whole seconds', '2026-03-01T12:34:56Z', utc(2026, 3, 1, 12, 34, 56)],
    [
      'Intune 7-digit fraction (truncated to ms)',
      '2026-03-01T12:34:56.1234567Z',
      utc(2026, 3, 1, 12, 34, 56, 123),
    ],
    [
      '7-digit fraction close to the next second is not rounded up',
      '2026-03-01T12:34:56.9999999Z',
      utc(2026, 3, 1, 12, 34, 56, 999),
    ],
    ['one-digit fraction', '2026-03-01T12:34:56.5Z', utc(2026, 3, 1, 12, 34, 56, 500)],
    ['three-digit fraction', '2026-03-01T12:34:56.042Z', utc(2026, 3, 1, 12, 34, 56, 42)],
    ['negative offset -08:00', '2026-03-01T04:00:00-08:00', utc(2026, 3, 1, 12)],
    ['positive offset +05:30', '2026-03-01T17:30:00+05:30', utc(2026, 3, 1, 12)],
    ['offset without a colon', '2026-03-01T17:30:00+0530', utc(2026, 3, 1, 12)],
    ['offset +00:00', '2026-03-01T12:00:00+00:00', utc(2026, 3, 1, 12)],
    ['largest offset +14:00', '2026-03-02T02:00:00+14:00', utc(2026, 3, 1, 12)],
    ['offset crossing into the previous day', '2026-03-01T00:30:00+01:00', utc(2026, 2, 28, 23, 30)],
    ['offset crossing into the next year', '2026-12-31T20:00:00-05:00', utc(2027, 1, 1, 1)],
    ['bare date is midnight UTC', '2026-03-01', utc(2026, 3, 1)],
    ['time without zone is UTC (PowerShell exports)', '2026-03-01T12:00:00', utc(2026, 3, 1, 12)],
    ['space instead of T', '2026-03-01 12:00:00', utc(2026, 3, 1, 12)],
    ['time without seconds', '2026-03-01T12:34Z', utc(2026, 3, 1, 12, 34)],
    ['surrounding whitespace', '  2026-03-01T12:00:00Z \n', utc(2026, 3, 1, 12)],
    ['Feb 29 in a leap year', '2024-02-29T00:00:00Z', utc(2024, 2, 29)],
    ['Feb 29 in a century leap year', '2000-02-29T00:00:00Z', utc(2000, 2, 29)],
    ['last second of a day', '2026-12-31T23:59:59Z', utc(2026, 12, 31, 23, 59, 59)],
    ['first plausible year', '1990-01-01T00:00:00Z', utc(1990, 1, 1)],
    ['Defender firstSeen shape', '2025-06-11T08:15:42.7783512Z', utc(2025, 6, 11, 8, 15, 42, 778)],
  ])('%s: %s', (_name, raw, expected) => {
    expect(parseTimestamp(raw)).toEqual({ ok: true, ms: expected })
  })
})

describe('parseTimestamp: unset and placeholder values are unknown (null), never old', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['empty string', ''],
    ['blank string', '   '],
    ['Intune 0001-01-01 placeholder', '0001-01-01T00:00:00Z'],
    ['0001-01-01 placeholder with a 7-digit fraction', '0001-01-01T00:00:00.0000000Z'],
    ['0001-01-01 placeholder with an offset', '0001-01-01T00:00:00+00:00'],
    ['a year before 1990', '1601-01-01T00:00:00Z'],
    ['far-future 9999-12-31T23:59:59Z', '9999-12-31T23:59:59Z'],
    ['far-future with a fraction', '9999-12-31T23:59:59.9999999Z'],
  ])('%s', (_name, raw) => {
    expect(parseTimestamp(raw)).toEqual({ ok: true, ms: null })
  })
})

describe('parseTimestamp: text that is not a real date-time is an error', () => {
  it.each<[string, string, RegExp]>([
    ['Feb 29 in a non-leap year', '2026-02-29T00:00:00Z', /not a real date-time/],
    ['Feb 29 in a non-leap century', '2100-02-29T00:00:00Z', /not a real date-time/],
    ['Feb 30', '2026-02-30T00:00:00Z', /not a real date-time/],
    ['April 31', '2026-04-31T00:00:00Z', /not a real date-time/],
    ['month 13', '2026-13-01T00:00:00Z', /not a real date-time/],
    ['month 00', '2026-00-10T00:00:00Z', /not a real date-time/],
    ['day 00', '2026-01-00T00:00:00Z', /not a real date-time/],
    ['hour 24', '2026-01-01T24:00:00Z', /not a real date-time/],
    ['minute 60', '2026-01-01T12:60:00Z', /not a real date-time/],
    ['second 60', '2026-01-01T12:00:60Z', /not a real date-time/],
    ['impossible placeholder-year date is still impossible', '0001-02-30T00:00:00Z', /not a real date-time/],
    ['offset beyond ±14 hours', '2026-01-01T12:00:00+15:00', /impossible UTC offset/],
    ['offset minutes 60', '2026-01-01T12:00:00+01:60', /impossible UTC offset/],
    ['a word', 'yesterday', /"yesterday" is not an ISO 8601 date-time/],
    ['one-digit month and day', '2026-3-1', /not an ISO 8601 date-time/],
    ['US date order', '03/01/2026', /not an ISO 8601 date-time/],
    ['RFC 2822 date', 'Sun, 01 Mar 2026 12:00:00 GMT', /not an ISO 8601 date-time/],
    ['epoch seconds as text', '1772366400', /not an ISO 8601 date-time/],
    ['trailing T', '2026-03-01T', /not an ISO 8601 date-time/],
    ['ten-digit fraction', '2026-03-01T12:00:00.1234567890Z', /not an ISO 8601 date-time/],
    ['named zone', '2026-03-01T12:00:00 PST', /not an ISO 8601 date-time/],
  ])('%s: %s', (_name, raw, problem) => {
    const parsed = parseTimestamp(raw)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.problem).toMatch(problem)
  })

  it.each<[string, unknown, string]>([
    ['a number (epoch ms)', 1772366400000, 'got number'],
    ['a boolean', true, 'got boolean'],
    ['an object', { dateTime: '2026-03-01T12:00:00Z' }, 'got object'],
    ['an array', ['2026-03-01T12:00:00Z'], 'got object'],
  ])('rejects %s', (_name, raw, problem) => {
    const parsed = parseTimestamp(raw)
    expect(parsed).toEqual({ ok: false, problem: expect.stringContaining(problem) })
  })

  it('shortens very long values in the message', () => {
    const parsed = parseTimestamp(`not a date ${'x'.repeat(200)}`)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.problem.length).toBeLessThan(120)
  })
})

describe('parseTimestamp: properties', () => {
  it("reads the APIs' common form exactly as the general parser does, whatever the digits", () => {
    // A leading space takes the general path (trim, then the regular expression): both must agree on every value.
    const digits = (n: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n })
    // Any two digits, or (as often) a value in range, so that real dates are common too.
    const part = (max: number, min = 0) =>
      fc.oneof(
        digits(2),
        fc.integer({ min, max }).map((n) => String(n).padStart(2, '0')),
      )
    const year = fc.oneof(
      digits(4),
      fc.integer({ min: 1990, max: 2100 }).map(String),
      fc.constantFrom('0001', '1989', '1990', '2000', '2024', '2100', '9000', '9001'),
    )
    const fraction = fc.oneof(
      fc.constant(''),
      fc.integer({ min: 1, max: 10 }).chain((n) => digits(n).map((d) => `.${d}`)),
    )
    const odd = fc.constantFrom('', 'x', '.', '+01:00', ' ')
    fc.assert(
      fc.property(
        year,
        part(12, 1),
        part(31, 1),
        part(23),
        part(59),
        part(59),
        fraction,
        odd,
        (y, mo, d, h, mi, sec, f, o) => {
          const text = `${y}-${mo}-${d}T${h}:${mi}:${sec}${f}${o === ' ' ? '' : o}Z`
          expect(parseTimestamp(text)).toEqual(parseTimestamp(` ${text}`))
        },
      ),
      { numRuns: 5000 },
    )
  })

  const instant = fc.date({
    min: new Date('1990-01-01T00:00:00Z'),
    max: new Date('8999-12-31T23:59:59Z'),
    noInvalidDate: true,
  })

  it('reads back every toISOString() value exactly', () => {
    fc.assert(
      fc.property(instant, (d) => {
        expect(parseTimestamp(d.toISOString())).toEqual({ ok: true, ms: d.getTime() })
      }),
      { numRuns: 200 },
    )
  })

  it('gives the same instant for any offset of the same moment', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -12 * 60, max: 14 * 60 }), (d, offsetMin) => {
        const wholeSeconds = Math.floor(d.getTime() / 1000) * 1000
        const local = new Date(wholeSeconds + offsetMin * 60_000).toISOString().slice(0, 19)
        const sign = offsetMin < 0 ? '-' : '+'
        const abs = Math.abs(offsetMin)
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
        const parsed = parseTimestamp(`${local}${zone}`)
        // Shifting across 1990 or 9000 can turn a real date into a placeholder year; those are unknown by design.
        if (parsed.ok && parsed.ms === null) return
        expect(parsed).toEqual({ ok: true, ms: wholeSeconds })
      }),
      { numRuns: 200 },
    )
  })
})

describe('daysBetween', () => {
  const now = Date.parse('2026-11-01T00:00:00Z')
  it.each<[string, number, number]>([
    ['same instant', now, 0],
    ['one millisecond before', now - 1, 0],
    ['exactly one day before', now - DAY_MS, 1],
    ['a day and a half before (floored)', now - 1.5 * DAY_MS, 1],
    ['one millisecond short of two days', now - 2 * DAY_MS + 1, 1],
    ['90 days before', now - 90 * DAY_MS, 90],
    ['one millisecond in the future', now + 1, -1],
    ['half a day in the future', now + DAY_MS / 2, -1],
    ['two days in the future', now + 2 * DAY_MS, -2],
  ])('%s', (_name, then, expected) => {
    expect(daysBetween(then, now)).toBe(expected)
  })

  it('counts across a DST change in UTC days, not local days', () => {
    expect(daysBetween(Date.parse('2026-03-28T12:00:00Z'), Date.parse('2026-03-30T12:00:00Z'))).toBe(2)
  })
})

describe('isoOrNull and parseInstant', () => {
  it('formats an instant and keeps unknown as null', () => {
    expect(isoOrNull(Date.parse('2026-11-01T00:00:00Z'))).toBe('2026-11-01T00:00:00.000Z')
    expect(isoOrNull(null)).toBeNull()
  })

  it('writes what toISOString writes, for any instant, the day text included (property)', () => {
    const instant = fc.oneof(
      fc.integer({ min: utc(1990, 1, 1), max: utc(2040, 1, 1) }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.double({ min: -1e13, max: 1e13, noNaN: true }),
      fc.constantFrom(0, -1, utc(9999, 12, 31, 23, 59, 59, 999), utc(10000, 1, 1), utc(0, 1, 1) - 1),
    )
    fc.assert(
      fc.property(instant, (ms) => {
        const expected = new Date(ms).toISOString()
        // Twice: the second call takes the day's text from what the first remembered.
        expect(isoText(ms)).toBe(expected)
        expect(isoText(ms)).toBe(expected)
        expect(dayText(ms)).toBe(expected.slice(0, 10))
      }),
      { numRuns: 2000 },
    )
    expect(() => isoText(Number.NaN)).toThrow(RangeError)
  })

  it('accepts a real instant and rejects placeholders and non-dates with the bad value named', () => {
    expect(parseInstant('2026-11-01T00:00:00Z', '--as-of')).toBe(Date.parse('2026-11-01T00:00:00Z'))
    expect(() => parseInstant('0001-01-01T00:00:00Z', '--as-of')).toThrow(
      /--as-of: "0001-01-01T00:00:00Z" is a placeholder/,
    )
    expect(() => parseInstant('2026-02-30', 'takenAt')).toThrow(
      /takenAt: "2026-02-30" is not a real date-time/,
    )
  })
})
