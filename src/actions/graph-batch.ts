/**
 * @module Graph JSON batching for actions: up to 20 requests per `$batch`, per-item results, and items answered
 * 429 inside a batch sent again after the longest inner Retry-After (reference §5). The outer request goes through
 * the one HTTP client, so its own 429/5xx, limits and token refresh are handled there.
 */
import { type ApiClient, errorText } from '../lib/graph-client.js'
import { defaultSleep, type RateLimiter } from '../lib/rate-limiter.js'
import {
  BATCH_SIZE,
  type HandlerContext,
  type Observation,
  type StepOutcome,
  type StepTarget,
} from './handler.js'

export interface BatchRequest {
  /** Unique within one call of {@link sendBatch}. */
  id: string
  method: 'GET' | 'PATCH' | 'POST' | 'DELETE'
  /** Relative to the version root, e.g. `/devices/{id}`. */
  url: string
  body?: Record<string, unknown>
}

export interface BatchResult {
  status: number
  body: unknown
}

/** Rounds of inner-429 retries before an item is given up as throttled. */
const MAX_THROTTLE_ROUNDS = 6
/** Without a Retry-After on an inner 429, wait this long. */
const DEFAULT_INNER_RETRY_MS = 1_000

/**
 * Sends requests in `$batch`es of at most 20 and returns one result per id. Items answered 429 are retried together
 * after the longest Retry-After of that round; after {@link MAX_THROTTLE_ROUNDS} they keep their 429.
 */
export async function sendBatch(
  graph: ApiClient,
  requests: readonly BatchRequest[],
  opts: { permission: string; sleep?: (ms: number) => Promise<void>; writeLimiter?: RateLimiter },
): Promise<Map<string, BatchResult>> {
  const sleep = opts.sleep ?? defaultSleep
  const results = new Map<string, BatchResult>()
  for (let i = 0; i < requests.length; i += BATCH_SIZE) {
    let pending = requests.slice(i, i + BATCH_SIZE)
    for (let round = 1; pending.length > 0; round++) {
      // Entra counts each write inside a batch against its limit, not the batch (reference §2.4).
      // The batch's writes are let go together, when the request leaves.
      const writes = pending.filter((r) => r.method !== 'GET').length
      if (opts.writeLimiter && writes > 0) await opts.writeLimiter.acquire(writes)
      const res = await graph.request<{ responses?: unknown }>('POST', '/$batch', {
        source: 'entra',
        permission: opts.permission,
        // A batch of writes must not reach Graph twice: after an unclear failure the executor re-reads instead.
        once: pending.some((r) => r.method !== 'GET'),
        body: {
          requests: pending.map((r) => ({
            id: r.id,
            method: r.method,
            url: r.url,
            ...(r.body !== undefined
              ? { body: r.body, headers: { 'Content-Type': 'application/json' } }
              : {}),
          })),
        },
      })
      const responses = Array.isArray(res.body?.responses) ? res.body.responses : []
      const byId = new Map<string, { status: number; headers: Record<string, string>; body: unknown }>()
      for (const r of responses as { id?: unknown; status?: unknown; headers?: unknown; body?: unknown }[]) {
        if (typeof r?.id !== 'string' || typeof r.status !== 'number') continue
        byId.set(r.id, {
          status: r.status,
          headers: (r.headers && typeof r.headers === 'object' ? r.headers : {}) as Record<string, string>,
          body: r.body ?? null,
        })
      }
      const throttled: BatchRequest[] = []
      let waitMs = 0
      for (const r of pending) {
        const answer = byId.get(r.id)
        if (!answer) {
          // A batch answer that leaves an item out says nothing about it: the caller treats 0 as "unknown".
          results.set(r.id, { status: 0, body: null })
          continue
        }
        if (answer.status === 429 && round < MAX_THROTTLE_ROUNDS) {
          throttled.push(r)
          waitMs = Math.max(waitMs, retryAfterMs(answer.headers))
          continue
        }
        results.set(r.id, { status: answer.status, body: answer.body })
      }
      if (throttled.length > 0) await sleep(waitMs)
      pending = throttled
    }
  }
  return results
}

function retryAfterMs(headers: Record<string, string>): number {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'retry-after')
  const seconds = key ? Number(headers[key]) : Number.NaN
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : DEFAULT_INNER_RETRY_MS
}

/** ": code: message" of a Graph error body inside a batch item, or "": the HTTP client's own reading. */
export const itemErrorText = errorText

/**
 * The step outcome of one write's batch answer: 2xx done (state `after`), 404 already gone, 403 failed with the
 * handler's own explanation, an item the answer left out failed with the way to re-check it, anything else failed.
 */
export function writeOutcome(
  r: BatchResult | undefined,
  after: Record<string, unknown>,
  forbidden: (detail: string) => string,
): StepOutcome {
  // sendBatch marks an item the service never answered with status 0.
  if (!r || r.status === 0) {
    return {
      kind: 'failed',
      reason: 'the batch answer did not include this item; run offboard act --resume to check and retry it.',
      status: null,
    }
  }
  const detail = errorText(r.body)
  // Intune's Multiple Administrative Approval holds protected operations for a second admin. Graph documents the
  // approval requests but not the answer a held call gets, so any answer that speaks of approval is read as held.
  if (mentionsApproval(r.body) && (r.status === 202 || r.status >= 400))
    return {
      kind: 'failed',
      reason:
        `waiting for Multiple Administrative Approval (HTTP ${r.status}${detail}): an approver must approve the request in ` +
        'Intune (Tenant administration › Multi Admin Approval); then run offboard act again.',
      status: r.status,
    }
  if (r.status >= 200 && r.status < 300) return { kind: 'done', after }
  if (r.status === 404) return { kind: 'gone' }
  if (r.status === 403) return { kind: 'failed', reason: forbidden(detail), status: 403 }
  return { kind: 'failed', reason: `HTTP ${r.status}${detail}`, status: r.status }
}

/** Whether an answer speaks of an approval: Intune's Multiple Administrative Approval (reference §1.4). */
export function mentionsApproval(body: unknown): boolean {
  if (body === null || body === undefined) return false
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return /approval|approver|operationApprovalRequest/i.test(text)
}

/**
 * Reads each target with one GET, in `$batch`es: 200 → what `observe` makes of the body, 404 → gone, anything
 * else → an error naming `what` was read. The verify step of every Graph handler.
 */
export async function readTargets(
  ctx: HandlerContext,
  targets: readonly StepTarget[],
  opts: { url: (t: StepTarget) => string; permission: string; what: string },
  observe: (t: StepTarget, body: unknown) => Observation | Promise<Observation>,
): Promise<Map<number, Observation>> {
  const results = await sendBatch(
    ctx.graph,
    targets.map((t) => ({ id: String(t.stepId), method: 'GET', url: opts.url(t) })),
    { permission: opts.permission, ...(ctx.sleep ? { sleep: ctx.sleep } : {}) },
  )
  const out = new Map<number, Observation>()
  for (const t of targets) {
    const r = results.get(String(t.stepId)) ?? { status: 0, body: null }
    if (r.status === 200) out.set(t.stepId, await observe(t, r.body))
    else if (r.status === 404) out.set(t.stepId, { kind: 'gone' })
    else
      out.set(t.stepId, {
        kind: 'error',
        reason: `reading the ${opts.what} failed: HTTP ${r.status}${errorText(r.body)}`,
      })
  }
  return out
}

/**
 * Sends one write per target, in `$batch`es, and maps each answer with {@link writeOutcome}: `after` is the state a
 * done step records, `forbidden` explains a 403 for that target. The execute step of every Graph handler.
 */
export async function writeTargets<T extends StepTarget>(
  ctx: HandlerContext,
  targets: readonly T[],
  request: (t: T) => Omit<BatchRequest, 'id'>,
  opts: { permission: string; writeLimiter?: RateLimiter | undefined },
  outcome: { after: (t: T) => Record<string, unknown>; forbidden: (t: T, detail: string) => string },
): Promise<Map<number, StepOutcome>> {
  const results = await sendBatch(
    ctx.graph,
    targets.map((t) => ({ id: String(t.stepId), ...request(t) })),
    {
      permission: opts.permission,
      ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
      ...(opts.writeLimiter ? { writeLimiter: opts.writeLimiter } : {}),
    },
  )
  const out = new Map<number, StepOutcome>()
  for (const t of targets)
    out.set(
      t.stepId,
      writeOutcome(results.get(String(t.stepId)), outcome.after(t), (detail) => outcome.forbidden(t, detail)),
    )
  return out
}
