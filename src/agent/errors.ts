/** @module Errors of the agent's services: each names the object (tenant, run, task, user) and says how to fix it. */
import type { z } from 'zod'
import { OffboardError, UsageError } from '../lib/errors.js'

/** The acting user may not do this. Always audited before it is thrown. */
export class PermissionDenied extends OffboardError {
  constructor(
    message: string,
    readonly actor: string,
    readonly permission: string,
    hint?: string,
  ) {
    super(message, hint)
  }
}

/** The agent identity went 90 consecutive days without a run. */
export class AgentExpiredError extends OffboardError {
  constructor(
    readonly tenantId: string,
    readonly expiredAt: Date,
  ) {
    super(
      `the agent identity for tenant ${tenantId} expired on ${expiredAt.toISOString().slice(0, 10)} after 90 days without a run; run 'offboard agent renew --tenant ${tenantId}'.`,
      `An administrator renews it with 'offboard agent renew --tenant ${tenantId}'; runs work again right after.`,
    )
  }
}

export interface RunningRunInfo {
  id: string
  tenantId: string
  trigger: string
  actor: string
  startedAt: Date
  pid: number
  host: string
}

/** A second run was started for a tenant while one is running: names the running one. */
export class RunInProgressError extends OffboardError {
  constructor(readonly running: RunningRunInfo) {
    super(
      `a run is already in progress for tenant ${running.tenantId}: run ${running.id}, started ${running.startedAt.toISOString()} by ${running.actor} (${running.trigger}, pid ${running.pid} on ${running.host}).`,
      'Runs cannot be paused or stopped; wait for it to finish. If that process died, the next start marks the run failed.',
    )
  }
}

/** A tenant, agent, run, suggestion, task or user that does not exist. */
export class NotFoundError extends OffboardError {}

/** The request conflicts with the current state (an agent already exists, a task is already open, …). */
export class ConflictError extends OffboardError {}

/**
 * Validates input with zod and turns a failure into a usage error that names the field, so a bad value from any
 * entry point reads as the caller's mistake rather than a crash.
 * @throws UsageError
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((i) =>
    i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
  )
  throw new UsageError(`invalid ${what}: ${problems.join('; ')}.`)
}
