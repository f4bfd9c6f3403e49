/** @module Checks a JSON report against a scenario's expected.json (the same vocabulary as the shared scenario checker). */
import type { Report } from '../src/domain/report.js'

export type Expectation =
  | { kind: 'act'; target: string; anyOf?: string[]; label?: string }
  | { kind: 'none'; target: string; label?: string }
  | { kind: 'never'; target: string; ops: string[]; label?: string }
  | {
      kind: 'order'
      first: { target: string; op: string }
      then: { target: string; op: string }
      label?: string
    }
  | { kind: 'automation'; target: string; op: string; allowed: string[]; label?: string }
  | { kind: 'skipped'; id: string; reason: string; label?: string }
  | { kind: 'source'; source: keyof Report['sources']; status: string; label?: string }
  | { kind: 'category'; target: string; category: string; label?: string }
  | { kind: 'undetermined'; id: string; label?: string }

export interface Expected {
  scenario: string
  takenAt: string
  instructions?: string | null
  exitCode?: number | 'any'
  stderrMatches?: string
  expect: Expectation[]
}

/** Returns the problems found; an empty list means the report meets every expectation. */
export function checkReport(report: Report, expected: Expected): string[] {
  const problems: string[] = []
  const actions = report.suggestions.flatMap((s) => s.actions.map((a) => ({ ...a, suggestion: s })))
  const key = (a: { system: string; operation: string }) => `${a.system}:${a.operation}`
  const on = (t: string) => actions.filter((a) => a.target === t)
  for (const e of expected.expect) {
    const label = e.label ? ` (${e.label})` : ''
    switch (e.kind) {
      case 'act': {
        const hits = on(e.target).filter((a) => !e.anyOf || e.anyOf.includes(key(a)))
        if (!hits.length)
          problems.push(
            `expected an action on ${e.target}${label}; got ${JSON.stringify(on(e.target).map(key))}`,
          )
        break
      }
      case 'none':
        if (on(e.target).length)
          problems.push(
            `expected no action on ${e.target}${label}; got ${JSON.stringify(on(e.target).map(key))}`,
          )
        break
      case 'never': {
        const hits = on(e.target).filter((a) => e.ops.includes(key(a)))
        if (hits.length)
          problems.push(`forbidden action on ${e.target}${label}: ${JSON.stringify(hits.map(key))}`)
        break
      }
      case 'order': {
        const firsts = on(e.first.target).filter((x) => key(x) === e.first.op)
        const thens = on(e.then.target).filter((x) => key(x) === e.then.op)
        const pairs = firsts.flatMap((a) =>
          thens.filter((b) => b.suggestion === a.suggestion).map((b) => [a, b] as const),
        )
        if (!pairs.length) problems.push(`expected ${e.first.op} and ${e.then.op} in one suggestion${label}`)
        else if (!pairs.some(([a, b]) => a.step < b.step))
          problems.push(`${e.first.op} must come before ${e.then.op}${label}`)
        break
      }
      case 'automation': {
        const a = on(e.target).find((x) => key(x) === e.op)
        if (!a) problems.push(`expected ${e.op} on ${e.target}${label}`)
        else if (!e.allowed.includes(a.automation))
          problems.push(`${e.op} on ${e.target}${label} is "${a.automation}"`)
        break
      }
      case 'skipped': {
        const s = report.skipped.find((x) => Object.values(x.device.ids).includes(e.id))
        if (!s) problems.push(`expected ${e.id}${label} in skipped with reason ${e.reason}`)
        else if (s.reason !== e.reason)
          problems.push(`${e.id}${label} skipped as "${s.reason}", expected "${e.reason}"`)
        if (on(e.id).length) problems.push(`skipped device ${e.id}${label} still has actions`)
        break
      }
      case 'source':
        if (report.sources[e.source].status !== e.status)
          problems.push(`sources.${e.source}.status is ${report.sources[e.source].status}`)
        break
      case 'category': {
        const s = report.suggestions.find(
          (x) =>
            x.actions.some((a) => a.target === e.target) || Object.values(x.device.ids).includes(e.target),
        )
        if (!s) problems.push(`expected a suggestion for ${e.target}${label}`)
        else if (s.category !== e.category)
          problems.push(`${e.target}${label} is "${s.category}", expected "${e.category}"`)
        break
      }
      case 'undetermined':
        if (!report.undetermined.some((u) => u.device.records.some((r) => r.id === e.id)))
          problems.push(`expected ${e.id}${label} in undetermined`)
        if (on(e.id).length) problems.push(`undetermined ${e.id}${label} has actions`)
        break
    }
  }
  return problems
}
