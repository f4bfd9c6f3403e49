/**
 * @module Entra disable: `PATCH /devices/{id}` with `accountEnabled: false`, the one operation offboard runs itself
 * (decisions.md, "Automation levels"). Reversible: undo sets `accountEnabled: true` again.
 */
import { RateLimiter, type RateLimiterOptions, TRANSIT_MARGIN_MS } from '../lib/rate-limiter.js'
import { readTargets, writeTargets } from './graph-batch.js'
import type { HandlerContext, OperationHandler, StepOutcome, StepTarget } from './handler.js'

/** Reference §2.1: writing a device object needs Device.ReadWrite.All (application). */
export const ENTRA_WRITE_PERMISSION = 'Device.ReadWrite.All'
/** Reference §2.4: 3,000 device writes per 2 min 30 s per app per tenant. */
export const ENTRA_WRITE_LIMITS = [{ limit: 3_000, ms: 150_000 }]

/** The limiter for Entra device writes (disable and delete share it), with the transit margin. */
export function entraWriteLimiter(clock: Pick<RateLimiterOptions, 'now' | 'sleep'> = {}): RateLimiter {
  return new RateLimiter({ windows: ENTRA_WRITE_LIMITS, marginMs: TRANSIT_MARGIN_MS, ...clock })
}

/**
 * Reference §0.6: app-only callers may not change `accountEnabled` on non-Windows devices; only a signed-in user
 * with one of these roles may.
 */
export const NON_WINDOWS_ROLES = ['Cloud Device Administrator', 'Intune Administrator'] as const

/** Their role template ids, as a user token's `wids` claim lists them (Microsoft's built-in roles page; reference §2.1). */
export const NON_WINDOWS_ROLE_IDS: Record<(typeof NON_WINDOWS_ROLES)[number], string> = {
  'Cloud Device Administrator': '7698a772-787b-4ac8-901f-60d6b08affd2',
  'Intune Administrator': '3a2c62db-5318-420d-8d74-23affee5d9d5',
}

const SELECT = 'id,displayName,accountEnabled,operatingSystem,deviceId'
const devicePath = (id: string) => `/devices/${encodeURIComponent(id)}`

function stateOf(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>
  return {
    accountEnabled: b.accountEnabled ?? null,
    operatingSystem: b.operatingSystem ?? null,
    displayName: b.displayName ?? null,
  }
}

const isWindows = (state: Record<string, unknown>) =>
  typeof state.operatingSystem === 'string' && state.operatingSystem.toLowerCase().startsWith('windows')

/**
 * Why a 403 happened and what fixes it. Signed in as a user, Graph checks the user's directory roles (reference §2.1:
 * at least Cloud Device Administrator may set `accountEnabled`, on any platform). Signed in as the app, non-Windows
 * objects cannot be disabled at all (reference §0.6), Windows ones need the app permission.
 */
export function forbiddenReason(
  before: Record<string, unknown>,
  detail: string,
  lead = '403 Forbidden',
  delegated = false,
): string {
  const roles = NON_WINDOWS_ROLES.join(' or ')
  if (delegated) {
    return (
      `${lead}${detail}: the signed-in user may not enable or disable device objects. Assign them the ${roles} ` +
      'role in Entra (or sign in as a user who has it); the app also needs consent for the delegated permission Directory.AccessAsUser.All.'
    )
  }
  if (!isWindows(before) && typeof before.operatingSystem === 'string') {
    return (
      `${lead}${detail}: ${before.operatingSystem} device objects cannot be disabled with app-only permissions ` +
      `(reference §0.6). Sign in as a user with the ${roles} role: set OFFBOARD_AUTH=deviceCode.`
    )
  }
  return `${lead}${detail}: the application needs ${ENTRA_WRITE_PERMISSION} (admin consent), or sign in as a user with the ${roles} role (OFFBOARD_AUTH=deviceCode).`
}

export interface EntraDisableOptions {
  /** Shared by every batch of a process: the Entra write limit is per app and tenant. */
  writeLimiter?: RateLimiter
}

/** PATCHes `accountEnabled` on a batch of targets; one outcome per step. */
function patchEnabled(
  ctx: HandlerContext,
  targets: readonly (StepTarget & { before?: Record<string, unknown> })[],
  enabled: boolean,
  writeLimiter: RateLimiter | undefined,
): Promise<Map<number, StepOutcome>> {
  return writeTargets(
    ctx,
    targets,
    (t) => ({ method: 'PATCH', url: devicePath(t.target), body: { accountEnabled: enabled } }),
    { permission: ENTRA_WRITE_PERMISSION, writeLimiter },
    {
      after: (t) => ({ ...t.before, accountEnabled: enabled }),
      forbidden: (t, detail) => forbiddenReason(t.before ?? {}, detail, undefined, ctx.delegated === true),
    },
  )
}

export function entraDisableHandler(opts: EntraDisableOptions = {}): OperationHandler {
  return {
    system: 'entra',
    operation: 'disable',
    // Only an app-only sign-in is known to fail on non-Windows objects; a user's roles show only when Graph answers.
    describe: (t, current, dctx) => ({
      call: `PATCH /devices/${t.target} (in $batch)`,
      change: 'accountEnabled: true → false',
      ...(!dctx?.delegated && current && typeof current.operatingSystem === 'string' && !isWindows(current)
        ? { warning: forbiddenReason(current, '', 'an app-only sign-in would be refused (403)') }
        : {}),
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
        (_t, body) => {
          const state = stateOf(body)
          return { kind: 'present', state, alreadyApplied: state.accountEnabled === false }
        },
      ),
    execute: (ctx, targets) => patchEnabled(ctx, targets, false, opts.writeLimiter),
    async undo(ctx, target) {
      const seen = (await this.verify(ctx, [target])).get(target.stepId)
      if (!seen || seen.kind === 'error')
        return { kind: 'failed', reason: seen?.reason ?? 'no answer', status: null }
      if (seen.kind === 'gone') return { kind: 'gone' }
      // Someone enabled it again since: it is no longer "disabled by us", so leave it alone.
      if (seen.state.accountEnabled !== false)
        return { kind: 'notNeeded', reason: 'the device is already enabled; nothing to undo.' }
      const outcome = (
        await patchEnabled(ctx, [{ ...target, before: seen.state }], true, opts.writeLimiter)
      ).get(target.stepId)
      return outcome ?? { kind: 'failed', reason: 'no answer', status: null }
    },
  }
}
