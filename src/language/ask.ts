/** @module Answers a plain-language question deterministically: parse it into one query, run it, shape the answer. */
import { ANSWER_SCHEMA_VERSION, type Answer, type QueryKind, type QueryResult } from './answer.js'
import type { AskData } from './ask-data.js'
import { runQuery } from './queries.js'
import { CAN_ANSWER, parseQuestion } from './questions.js'

function basisOf(data: AskData): Answer['basis'] {
  return {
    origin: data.origin,
    tenantId: data.tenantId,
    runId: data.runId,
    asOf: data.asOf,
    previousRunId: data.previous?.runId ?? null,
  }
}

/** Builds a full answer from a query's result. */
export function makeAnswer(
  question: string,
  data: AskData,
  kind: QueryKind,
  params: Record<string, unknown>,
  result: QueryResult,
  engine: Answer['engine'] = 'deterministic',
): Answer {
  return {
    schemaVersion: ANSWER_SCHEMA_VERSION,
    question,
    answered: true,
    query: kind,
    params,
    engine,
    summary: result.summary,
    factors: result.factors ?? [],
    steps: result.steps ?? [],
    counts: result.counts ?? {},
    devices: result.devices ?? [],
    details: result.details ?? [],
    tasks: result.tasks ?? [],
    changes: result.changes ?? [],
    canAnswer: [],
    notes: result.notes ?? [],
    basis: basisOf(data),
  }
}

/** A refusal: what could not be answered and why, and the list of what can be. Never a guess. */
export function refusal(question: string, data: AskData, reason: string): Answer {
  return {
    ...makeAnswer(
      question,
      data,
      'summary',
      {},
      { summary: `offboard cannot answer this question: ${reason}` },
    ),
    answered: false,
    query: null,
    canAnswer: [...CAN_ANSWER],
  }
}

/** The deterministic engine: offline, and the same question over the same data always gives the same answer. */
export function answerQuestion(question: string, data: AskData): Answer {
  const parsed = parseQuestion(question)
  if (!parsed.ok) return refusal(question, data, parsed.reason)
  const { params, result } = runQuery(data, parsed.kind, parsed.params)
  const answer = makeAnswer(question, data, parsed.kind, params, result)
  answer.notes.unshift(...parsed.notes)
  return answer
}
