/**
 * @module The operation-handler interface: one handler per `system:operation`, so opt-in operations (Intune
 * delete/retire, Autopilot, Defender offboard, Entra delete) can be added later without touching the executor.
 */
import type { ActionOperation, ActionSystem } from '../domain/action.js'
import type { ApiClient } from '../lib/graph-client.js'
import { defaultSleep } from '../lib/rate-limiter.js'

/** A step the executor hands to a handler: one target of one operation. */
export interface StepTarget {
  /** The stored step id (action_steps.id). */
  stepId: number
  target: string
  targetName: string | null
}

/** What a handler learned about a target before acting on it. */
export type Observation =
  /** The target exists; `state` is what the audit log records as "before"/"after". */
  | { kind: 'present'; state: Record<string, unknown>; alreadyApplied: boolean }
  /** The record is gone (404): nothing left to do. */
  | { kind: 'gone' }
  /** The read itself failed; the step fails with this reason. */
  | { kind: 'error'; reason: string }

/** The outcome of one executed step. */
export type StepOutcome =
  | { kind: 'done'; after: Record<string, unknown> }
  | { kind: 'gone' }
  | { kind: 'failed'; reason: string; status: number | null }

/** What offboard's own store knows about a target, for steps whose safety depends on history (Entra delete). */
export interface ActHistory {
  /** When an act of offboard disabled this Entra object (the latest done, not undone, disable step), or null. */
  disabledAt(entraObjectId: string): Promise<Date | null>
  /** When `offboard keys export` saved this Entra object's BitLocker recovery keys to a file, or null. */
  keysExportedAt(entraObjectId: string): Promise<Date | null>
}

/** The clients a handler may use: every call goes through the one HTTP client (retries, Retry-After, limits). */
export interface HandlerContext {
  graph: ApiClient
  /** The Defender for Endpoint client (its own rate limiter); only the Defender offboard handler uses it. */
  defender?: ApiClient
  /** Waits, for inner Retry-After; injectable so tests need not sleep long. */
  sleep?: (ms: number) => Promise<void>
  /** The time of the act, epoch ms (default Date.now): grace periods are measured against it. */
  now?: () => number
  /** offboard's own records of earlier acts and exports. */
  history?: ActHistory
  /** The admin acknowledged (`--keys-exported`) that recovery keys were saved outside offboard. */
  keysExportedAcknowledged?: boolean
  /** Signed in as a user (device code or browser), not as the app: Graph checks the user's roles, not app permissions. */
  delegated?: boolean
}

/** The end of asynchronous work a done step started (a Defender MachineAction). */
export type FollowResult =
  | { kind: 'succeeded'; after: Record<string, unknown> }
  | { kind: 'failed'; after: Record<string, unknown>; reason: string }
  /** Still underway when the act stopped following it. */
  | { kind: 'pending'; after: Record<string, unknown>; reason: string }

export interface OperationHandler {
  readonly system: ActionSystem
  readonly operation: ActionOperation
  /** One line for the dry run: the call and what it changes, e.g. "PATCH /devices/{id} accountEnabled true → false". */
  describe(
    target: StepTarget,
    current?: Record<string, unknown>,
    ctx?: { delegated?: boolean },
  ): { call: string; change: string; warning?: string }
  /** Reads the current state of each target (re-check before acting; learns the outcome of a `sent` step on resume). */
  verify(ctx: HandlerContext, targets: readonly StepTarget[]): Promise<Map<number, Observation>>
  /** Performs the operation on a batch of targets (at most {@link BATCH_SIZE}); one outcome per step id. */
  execute(
    ctx: HandlerContext,
    targets: readonly (StepTarget & { before: Record<string, unknown> })[],
  ): Promise<Map<number, StepOutcome>>
  /** A 404 after this step was sent means it took effect (deletes): on resume such a step is done, not skipped. */
  readonly removesTarget?: boolean
  /**
   * Follows asynchronous work that done steps started until it ends or the handler's own bounded wait runs out;
   * one result per step whose state it learned.
   */
  follow?(
    ctx: HandlerContext,
    steps: readonly (StepTarget & { after: Record<string, unknown> })[],
  ): Promise<Map<number, FollowResult>>
  /** Reverses a done step when the record is still as this operation left it; absent for irreversible operations. */
  undo?(ctx: HandlerContext, target: StepTarget): Promise<StepOutcome | { kind: 'notNeeded'; reason: string }>
}

/** Graph `$batch` takes at most 20 requests (reference §5). */
export const BATCH_SIZE = 20

export const handlerKey = (system: string, operation: string): string => `${system}:${operation}`

/** The handlers offboard runs itself; opt-in ones run only for operations the tenant policy's `optIn` enables. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, OperationHandler>()

  constructor(handlers: readonly OperationHandler[] = []) {
    for (const h of handlers) this.register(h)
  }

  register(handler: OperationHandler): void {
    this.handlers.set(handlerKey(handler.system, handler.operation), handler)
  }

  get(system: string, operation: string): OperationHandler | undefined {
    return this.handlers.get(handlerKey(system, operation))
  }
}

/**
 * Runs `round` until it says everything it waits for has happened, pausing `pollMs` between rounds, for at most
 * `waitMs` on the act's clock. Resolves false when the wait ran out first. The bounded waits of asynchronous work
 * (an Intune delete settling, a deregistration, a MachineAction) all go through here.
 */
export async function pollWithin(
  ctx: Pick<HandlerContext, 'now' | 'sleep'>,
  waitMs: number,
  pollMs: number,
  round: () => Promise<boolean>,
): Promise<boolean> {
  const now = ctx.now ?? Date.now
  const sleep = ctx.sleep ?? defaultSleep
  const deadline = now() + waitMs
  for (;;) {
    if (await round()) return true
    if (now() + pollMs > deadline) return false
    await sleep(pollMs)
  }
}
