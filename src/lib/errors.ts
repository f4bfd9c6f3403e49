/** @module The one error hierarchy: every failure says what failed, on which object, and how to fix it. */

/** Base class: the CLI prints `message` (and `hint`) and exits with `exitCode`. */
export class OffboardError extends Error {
  readonly exitCode: number = 1
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** Wrong command-line usage: unknown option, bad option value. Exit code 2. */
export class UsageError extends OffboardError {
  override readonly exitCode = 2
}

/** A problem with one item of an input file (snapshot export, meta.json, policy file). */
export interface InputProblem {
  /** 1-based record number within the collection (or line number for JSONL). */
  record?: number
  /** The record's own id when it could be read. */
  recordId?: string
  /** Dotted path of the offending field. */
  field?: string
  problem: string
}

/** Malformed input: the message names the file and, where possible, the record and field. Exit code 1. */
export class InputError extends OffboardError {
  constructor(
    readonly file: string,
    readonly problems: InputProblem[],
    hint?: string,
    readonly totalProblems = problems.length,
  ) {
    super(formatInputProblems(file, problems, totalProblems), hint)
  }
}

function formatInputProblems(file: string, problems: InputProblem[], total: number): string {
  const lines = problems.map((p) => {
    const where = [
      p.record !== undefined ? `record ${p.record}` : null,
      p.recordId !== undefined ? `(id "${p.recordId}")` : null,
      p.field ? `field "${p.field}"` : null,
    ]
      .filter(Boolean)
      .join(' ')
    return where ? `${where}: ${p.problem}` : p.problem
  })
  const more = total > problems.length ? [`… and ${total - problems.length} more problems`] : []
  if (lines.length === 1 && more.length === 0) return `${file}: ${lines[0]}`
  return `${file}: ${total} problem${total === 1 ? '' : 's'}\n${[...lines, ...more].map((l) => `  - ${l}`).join('\n')}`
}

/** A source API call failed: which source, which endpoint, the HTTP status, and the permission to grant on 403. */
export class SourceError extends OffboardError {
  constructor(
    message: string,
    readonly source: string,
    readonly endpoint: string,
    readonly status: number | null,
    hint?: string,
    readonly permission?: string,
  ) {
    super(message, hint)
  }
}

/** Configuration is missing or invalid (no tenant configured, a bad config file). Exit code 1. */
export class ConfigError extends OffboardError {}
