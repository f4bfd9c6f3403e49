/**
 * @module Entra delete: `DELETE /devices/{id}`, opt-in and irreversible (decisions.md, "The plan" step 3). Refused
 * unless the object is disabled, offboard itself disabled it at least the grace period ago, it is not
 * Autopilot-registered, and its BitLocker recovery keys were exported (reference §2.5, §6.1).
 */
import type { RateLimiter } from '../lib/rate-limiter.js'
import { ENTRA_WRITE_PERMISSION } from './entra-disable.js'
import { readTargets, writeTargets } from './graph-batch.js'
import type { HandlerContext, OperationHandler, StepTarget } from './handler.js'

/** decisions.md, "The plan" step 3: delete only after this long as disabled, unless the policy says otherwise. */
export const DEFAULT_GRACE_DAYS = 30
const DAY_MS = 86_400_000
/** Reference §2.1: the delegated roles that may delete device objects. */
export const DELETE_ROLES = [
  'Intune Administrator',
  'Windows 365 Administrator',
  'Cloud Device Administrator',
] as const

const SELECT = 'id,deviceId,displayName,accountEnabled,operatingSystem,physicalIds'
const devicePath = (id: string) => `/devices/${encodeURIComponent(id)}`

/** Reference §2.3: `[ZTDID]:<guid>` marks an Autopilot-registered object; the casing varies (ZTDId, ZTDID). */
export function hasZtdid(physicalIds: unknown): boolean {
  return Array.isArray(physicalIds) && physicalIds.some((p) => typeof p === 'string' && /^\[ztdid\]/i.test(p))
}

function stateOf(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>
  return {
    accountEnabled: b.accountEnabled ?? null,
    deviceId: b.deviceId ?? null,
    displayName: b.displayName ?? null,
    operatingSystem: b.operatingSystem ?? null,
    autopilotRegistered: hasZtdid(b.physicalIds),
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Why this object may not be deleted now, with how to make it eligible; null when it may. */
async function refusal(
  ctx: HandlerContext,
  t: StepTarget,
  state: Record<string, unknown>,
  graceDays: number,
): Promise<string | null> {
  const name = `"${t.targetName ?? state.displayName ?? t.target}" (${t.target})`
  if (state.accountEnabled !== false)
    return `${name} is still enabled: an object is deleted only after it was disabled and the grace period passed. Disable it first (offboard act runs the Entra disable step).`
  if (state.autopilotRegistered === true)
    return (
      `${name} is registered with Windows Autopilot (a [ZTDID] entry in physicalIds): deleting it makes self-deploying and ` +
      'pre-provisioning deployments fail (reference §6.1). Deregister the device in Autopilot instead; do not delete the Entra object.'
    )
  // Without history the safety checks below cannot be made: refuse rather than guess.
  if (!ctx.history)
    return `offboard's act history is not available, so it cannot check how long ${name} has been disabled or whether its recovery keys were exported; nothing was deleted.`
  const disabledAt = await ctx.history.disabledAt(t.target)
  if (!disabledAt)
    return (
      `offboard did not disable ${name} itself, and Graph does not say when an object was disabled, so the ${graceDays}-day grace period ` +
      'cannot be checked. Disabling it through offboard act starts the clock (enable it, then let offboard disable it), or delete it in the Entra admin center yourself.'
    )
  const now = (ctx.now ?? Date.now)()
  const eligible = disabledAt.getTime() + graceDays * DAY_MS
  if (now < eligible)
    return `${name} was disabled by offboard on ${day(disabledAt.getTime())}; the ${graceDays}-day grace period ends on ${day(eligible)}, when it becomes eligible for delete.`
  const exportedAt = await ctx.history.keysExportedAt(t.target)
  if (!exportedAt && !ctx.keysExportedAcknowledged)
    return (
      `the BitLocker recovery keys of ${name} were not exported, and deleting the object deletes them (reference §2.5). ` +
      'Run offboard keys export -o FILE first (and keep the file safe), or pass --keys-exported if you saved them another way.'
    )
  return null
}

function forbiddenReason(detail: string): string {
  return (
    `403 Forbidden${detail}: deleting a device object needs the application permission ${ENTRA_WRITE_PERMISSION} (admin consent; ` +
    `the only application permission for it, reference §2.1), or a signed-in user with the ${DELETE_ROLES.join(', ')} role ` +
    '(OFFBOARD_AUTH=deviceCode).'
  )
}

export interface EntraDeleteOptions {
  /** Days an object must have been disabled by offboard before it may be deleted (default 30). */
  graceDays?: number
  /** Shared with Entra disable: the device write limit is per app and tenant (reference §2.4). */
  writeLimiter?: RateLimiter
}

export function entraDeleteHandler(opts: EntraDeleteOptions = {}): OperationHandler {
  const graceDays = opts.graceDays ?? DEFAULT_GRACE_DAYS
  return {
    system: 'entra',
    operation: 'delete',
    removesTarget: true,
    describe: (t) => ({
      call: `DELETE /devices/${t.target} (in $batch)`,
      // The conditions (disabled by offboard ≥ graceDays ago, not Autopilot, keys exported) are checked by verify,
      // so the dry run shows a refusal where one applies; this says what a delete that runs does.
      change:
        'the device object is deleted — cannot be undone; BitLocker keys stored on it are deleted ' +
        `(runs only for objects offboard disabled at least ${graceDays} days ago, never for Autopilot devices, keys exported)`,
    }),
    verify: (ctx, targets) =>
      readTargets(
        ctx,
        targets,
        {
          url: (t) => `${devicePath(t.target)}?$select=${SELECT}`,
          permission: 'Device.Read.All',
          what: 'device',
        },
        async (t, body) => {
          const state = stateOf(body)
          const refused = await refusal(ctx, t, state, graceDays)
          // A present object is never "already deleted".
          return refused
            ? { kind: 'error', reason: refused }
            : { kind: 'present', state, alreadyApplied: false }
        },
      ),
    execute: (ctx, targets) =>
      writeTargets(
        ctx,
        targets,
        (t) => ({ method: 'DELETE', url: devicePath(t.target) }),
        { permission: ENTRA_WRITE_PERMISSION, writeLimiter: opts.writeLimiter },
        { after: () => ({ deleted: true }), forbidden: (_t, detail) => forbiddenReason(detail) },
      ),
  }
}
