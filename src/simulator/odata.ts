/** @module The OData subset the device APIs accept: `$filter` (eq/ne/lt/le/gt/ge, contains/startswith, and/or), `$select`, `$top`, opaque skip tokens. */
import { createHmac, randomBytes } from 'node:crypto'
import type { Rec } from './state.js'

export type Literal = string | number | boolean | null
export type Operator = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'
export type FilterFunction = 'contains' | 'startswith' | 'endswith'

export type Clause =
  | { kind: 'compare'; prop: string; op: Operator; value: Literal; text: string }
  | { kind: 'function'; fn: FilterFunction; prop: string; value: string; text: string }

/** Disjunctive form: the record matches when every clause of any group matches. */
export type Filter = Clause[][]

export class FilterSyntaxError extends Error {}

const OPERATORS = new Set<string>(['eq', 'ne', 'lt', 'le', 'gt', 'ge'])
const FUNCTIONS = new Set<string>(['contains', 'startswith', 'endswith'])

type Token =
  | { type: 'string'; value: string }
  | { type: 'word'; value: string }
  | { type: 'punct'; value: string }

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    if (/\s/.test(ch)) {
      i++
    } else if (ch === "'") {
      // OData escapes a quote inside a string literal by doubling it.
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('unterminated string literal')
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'"
            i += 2
            continue
          }
          i++
          break
        }
        value += text[i]
        i++
      }
      tokens.push({ type: 'string', value })
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ type: 'punct', value: ch })
      i++
    } else {
      const m = /^[^\s'(),]+/.exec(text.slice(i))!
      tokens.push({ type: 'word', value: m[0] })
      i += m[0].length
    }
  }
  return tokens
}

function literal(token: Token | undefined): Literal {
  if (!token || token.type === 'punct') throw new FilterSyntaxError('expected a value')
  if (token.type === 'string') return token.value
  const w = token.value
  if (w === 'true') return true
  if (w === 'false') return false
  if (w === 'null') return null
  if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w)
  // Unquoted date-times (`lastSeen gt 2018-08-01Z`) stay text and compare as instants.
  if (/^\d{4}-\d{2}-\d{2}/.test(w)) return w
  throw new FilterSyntaxError(`unexpected '${w}'`)
}

/**
 * Parses a `$filter` expression.
 * @throws FilterSyntaxError for anything outside the subset (parentheses for grouping, `not`, lambdas, …).
 */
export function parseFilter(text: string): Filter {
  const tokens = tokenize(text)
  let pos = 0
  const groups: Filter = [[]]
  const clauseText = (start: number): string =>
    tokens
      .slice(start, pos)
      .map((t) => (t.type === 'string' ? `'${t.value}'` : t.value))
      .join(' ')
  for (;;) {
    const start = pos
    const first = tokens[pos]
    if (first?.type !== 'word') throw new FilterSyntaxError('expected a property or a function')
    let clause: Clause
    if (tokens[pos + 1]?.value === '(' && FUNCTIONS.has(first.value.toLowerCase())) {
      const prop = tokens[pos + 2]
      const comma = tokens[pos + 3]
      const value = tokens[pos + 4]
      const close = tokens[pos + 5]
      if (prop?.type !== 'word' || comma?.value !== ',' || value?.type !== 'string' || close?.value !== ')')
        throw new FilterSyntaxError(`malformed ${first.value}() call`)
      pos += 6
      clause = {
        kind: 'function',
        fn: first.value.toLowerCase() as FilterFunction,
        prop: prop.value,
        value: value.value,
        text: clauseText(start),
      }
    } else {
      const op = tokens[pos + 1]
      if (op?.type !== 'word' || !OPERATORS.has(op.value.toLowerCase()))
        throw new FilterSyntaxError(`expected an operator after '${first.value}'`)
      const value = literal(tokens[pos + 2])
      pos += 3
      clause = {
        kind: 'compare',
        prop: first.value,
        op: op.value.toLowerCase() as Operator,
        value,
        text: clauseText(start),
      }
    }
    groups[groups.length - 1]!.push(clause)
    const joiner = tokens[pos]
    if (!joiner) return groups
    if (joiner.type !== 'word') throw new FilterSyntaxError(`unexpected '${joiner.value}'`)
    const word = joiner.value.toLowerCase()
    if (word === 'or') groups.push([])
    else if (word !== 'and') throw new FilterSyntaxError(`unexpected '${joiner.value}'`)
    pos++
  }
}

/** Reads `a/b` paths (Teams `hardwareDetail/serialNumber`). */
export function propValue(rec: Rec, prop: string): unknown {
  let value: unknown = rec
  for (const part of prop.split('/')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Rec)[part]
  }
  return value
}

const ISO_START = /^\d{4}-\d{2}-\d{2}/

function compare(actual: unknown, op: Operator, expected: Literal): boolean {
  if (expected === null || actual === null || actual === undefined) {
    const bothNull = (actual === null || actual === undefined) && expected === null
    if (op === 'eq') return bothNull
    if (op === 'ne') return !bothNull
    return false
  }
  let a: number | string | boolean
  let b: number | string | boolean
  if (
    typeof expected === 'string' &&
    typeof actual === 'string' &&
    ISO_START.test(expected) &&
    ISO_START.test(actual)
  ) {
    a = Date.parse(actual)
    b = Date.parse(expected)
  } else if (typeof expected === 'string' && typeof actual === 'string') {
    // Graph string comparisons are case-insensitive.
    a = actual.toLowerCase()
    b = expected.toLowerCase()
  } else if (Array.isArray(actual) && op === 'eq') {
    return actual.some((item) => compare(item, 'eq', expected))
  } else if (typeof actual === typeof expected) {
    a = actual as number | boolean
    b = expected
  } else {
    a = String(actual).toLowerCase()
    b = String(expected).toLowerCase()
  }
  switch (op) {
    case 'eq':
      return a === b
    case 'ne':
      return a !== b
    case 'lt':
      return a < b
    case 'le':
      return a <= b
    case 'gt':
      return a > b
    case 'ge':
      return a >= b
  }
}

export function clauseMatches(rec: Rec, clause: Clause): boolean {
  const actual = propValue(rec, clause.prop)
  if (clause.kind === 'compare') return compare(actual, clause.op, clause.value)
  if (typeof actual !== 'string') return false
  const a = actual.toLowerCase()
  const v = clause.value.toLowerCase()
  if (clause.fn === 'contains') return a.includes(v)
  if (clause.fn === 'startswith') return a.startsWith(v)
  return a.endsWith(v)
}

export function filterMatches(rec: Rec, filter: Filter): boolean {
  return filter.some((group) => group.every((clause) => clauseMatches(rec, clause)))
}

/** What a collection lets `$filter` use: operators per property, and functions per property. */
export interface FilterSupport {
  ops: Record<string, readonly Operator[]>
  functions?: Record<string, readonly FilterFunction[]>
}

export function clauseSupported(clause: Clause, support: FilterSupport): boolean {
  if (clause.kind === 'compare') return support.ops[clause.prop]?.includes(clause.op) ?? false
  return support.functions?.[clause.prop]?.includes(clause.fn) ?? false
}

/** Parses `$select`; empty when absent. */
export function parseSelect(value: string | null): string[] {
  if (!value) return []
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** Projects a record onto `$select` (Graph always returns `id`). */
export function project(rec: Rec, select: readonly string[]): Rec {
  if (select.length === 0) return rec
  const out: Rec = { id: rec.id ?? null }
  for (const prop of select) if (prop !== 'id') out[prop] = rec[prop] ?? null
  return out
}

export interface PageCursor {
  /** Sequence number of the last record served. */
  after: number
  /** 1-based number of the page this token opens. */
  page: number
}

/** Opaque, tamper-evident `$skiptoken`s (reference §1.3: clients must follow nextLink verbatim, not build tokens). */
export class SkipTokens {
  private readonly key = randomBytes(16)

  encode(cursor: PageCursor): string {
    const payload = Buffer.from(`${cursor.after}.${cursor.page}`).toString('base64url')
    return `${this.mac(payload)}${payload}`
  }

  decode(token: string): PageCursor | undefined {
    const mac = token.slice(0, 16)
    const payload = token.slice(16)
    if (mac !== this.mac(payload)) return undefined
    const [after, page] = Buffer.from(payload, 'base64url').toString('utf8').split('.').map(Number)
    if (!Number.isSafeInteger(after) || !Number.isSafeInteger(page)) return undefined
    return { after: after!, page: page! }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, 16)
  }
}

/** Query string without the given parameters, keeping the others in their order and encoding. */
export function queryWithout(rawQuery: string, drop: readonly string[]): string[] {
  if (!rawQuery) return []
  return rawQuery.split('&').filter((part) => {
    if (!part) return false
    const name = decodeURIComponent(part.split('=')[0]!.replace(/\+/g, ' ')).toLowerCase()
    return !drop.includes(name)
  })
}
