/**
 * @module Windows Autopilot deregistration, opt-in as `autopilot.deregister` (reference §6.3): unassign the user
 * (`POST …/{id}/unassignUserFromDevice`), then delete the identity (`DELETE …/{id}`) — both only once the device's
 * Intune record is confirmed gone, because deregistering first can leave orphaned or unrecoverable devices. Intune
 * deletes settle asynchronously, so the check waits, bounded, polling. Deregistration is asynchronous too: after the
 * DELETE the identity is followed until it disappears (or the wait ends and the act says it is still pending).
 */
import { type BatchRequest, itemErrorText, readTargets, sendBatch, writeTargets } from './graph-batch.js'
import {
  type FollowResult,
  type HandlerContext,
  type Observation,
  type OperationHandler,
  pollWithin,
  type StepOutcome,
  type StepTarget,
} from './handler.js'

const READ_PERMISSION = 'DeviceManagementServiceConfig.Read.All'
/** Reference §3.1: the unassign page lists Read.All, but writes need ReadWrite.All. */
const WRITE_PERMISSION = 'DeviceManagementServiceConfig.ReadWrite.All'
const INTUNE_READ_PERMISSION = 'DeviceManagementManagedDevices.Read.All'
const PATH = '/deviceManagement/windowsAutopilotDeviceIdentities'
const SELECT = 'id,serialNumber,userPrincipalName,managedDeviceId,azureActiveDirectoryDeviceId'
const ZERO_GUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/

const identityPath = (id: string) => `${PATH}/${encodeURIComponent(id)}`
const quoteOData = (s: string) => s.replace(/'/g, "''")

export interface AutopilotOptions {
  /** How long to wait for the device's Intune record to disappear before giving up on it (default 5 minutes). */
  intuneWaitMs?: number
  /** How long to follow a deregistration until the identity disappears (default 5 minutes). */
  deregisterWaitMs?: number
  /** Pause between checks (default 15 s). */
  pollMs?: number
}

interface Identity {
  id: string
  serialNumber: string | null
  userPrincipalName: string | null
  managedDeviceId: string | null
}

function identityOf(body: unknown): Identity {
  const b = (body ?? {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null)
  return {
    id: String(b.id ?? ''),
    serialNumber: str(b.serialNumber),
    userPrincipalName: str(b.userPrincipalName),
    managedDeviceId:
      str(b.managedDeviceId) && !ZERO_GUID.test(String(b.managedDeviceId)) ? String(b.managedDeviceId) : null,
  }
}

const stateOf = (i: Identity): Record<string, unknown> => ({
  serialNumber: i.serialNumber,
  userPrincipalName: i.userPrincipalName,
  managedDeviceId: i.managedDeviceId,
})

/** Reads the identities (404: gone); `observe` makes an observation of each one that is there. */
function readIdentities(
  ctx: HandlerContext,
  targets: readonly StepTarget[],
  observe: (t: StepTarget, identity: Identity) => Observation = (_t, i) => ({
    kind: 'present',
    state: stateOf(i),
    alreadyApplied: false,
  }),
): Promise<Map<number, Observation>> {
  return readTargets(
    ctx,
    targets,
    {
      url: (t) => `${identityPath(t.target)}?$select=${SELECT}`,
      permission: READ_PERMISSION,
      what: 'Autopilot identity',
    },
    (t, body) => observe(t, identityOf(body)),
  )
}

/**
 * Whether the device's Intune record still exists: by the identity's `managedDeviceId`, or (without one) by serial
 * number. Returns a description of what is still there, or null when Intune has nothing.
 */
async function intuneLeftovers(ctx: HandlerContext, identities: ReadonlyMap<number, Identity>) {
  const requests: BatchRequest[] = []
  for (const [stepId, i] of identities) {
    if (i.managedDeviceId)
      requests.push({
        id: String(stepId),
        method: 'GET',
        url: `/deviceManagement/managedDevices/${encodeURIComponent(i.managedDeviceId)}?$select=id,managementState`,
      })
    else if (i.serialNumber)
      requests.push({
        id: String(stepId),
        method: 'GET',
        url: `/deviceManagement/managedDevices?$filter=${encodeURIComponent(`serialNumber eq '${quoteOData(i.serialNumber)}'`)}&$select=id,managementState`,
      })
  }
  const results = await sendBatch(ctx.graph, requests, {
    permission: INTUNE_READ_PERMISSION,
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
  })
  const out = new Map<number, string | null>()
  for (const [stepId, i] of identities) {
    const r = results.get(String(stepId))
    if (!r) {
      out.set(stepId, null)
      continue
    }
    const body = (r.body ?? {}) as { id?: unknown; managementState?: unknown; value?: unknown }
    if (r.status === 404) out.set(stepId, null)
    else if (r.status === 200 && Array.isArray(body.value))
      out.set(
        stepId,
        body.value.length
          ? `Intune record ${String((body.value[0] as { id?: unknown }).id)} (serial ${i.serialNumber})`
          : null,
      )
    else if (r.status === 200)
      out.set(stepId, `Intune record ${String(body.id)} (${String(body.managementState ?? 'managed')})`)
    else out.set(stepId, `the Intune check failed: HTTP ${r.status}${itemErrorText(r.body)}`)
  }
  return out
}

/**
 * Reads the identities and waits (bounded) until each one's Intune record is gone; a target whose Intune record is
 * still there at the end is refused with what to do.
 */
async function verifyAfterIntune(
  ctx: HandlerContext,
  targets: readonly StepTarget[],
  opts: Required<AutopilotOptions>,
  applied: (i: Identity) => boolean,
): Promise<Map<number, Observation>> {
  const waiting = new Map<number, Identity>()
  const out = await readIdentities(ctx, targets, (t, identity) => {
    if (!applied(identity)) waiting.set(t.stepId, identity)
    return { kind: 'present', state: stateOf(identity), alreadyApplied: applied(identity) }
  })
  let left = new Map<number, string | null>()
  const settled = await pollWithin(ctx, opts.intuneWaitMs, opts.pollMs, async () => {
    if (waiting.size > 0) left = await intuneLeftovers(ctx, waiting)
    for (const stepId of [...waiting.keys()]) if (left.get(stepId) === null) waiting.delete(stepId)
    return waiting.size === 0
  })
  if (!settled)
    for (const [stepId] of waiting)
      out.set(stepId, {
        kind: 'error',
        reason:
          `${left.get(stepId)} is still in Intune after waiting ${Math.round(opts.intuneWaitMs / 1000)} s. ` +
          'Autopilot deregistration comes after the Intune delete (reference §6.3): delete the Intune record ' +
          '(or let its pending delete finish), then run offboard act again.',
      })
  return out
}

function withDefaults(opts: AutopilotOptions): Required<AutopilotOptions> {
  return {
    intuneWaitMs: opts.intuneWaitMs ?? 5 * 60_000,
    deregisterWaitMs: opts.deregisterWaitMs ?? 5 * 60_000,
    pollMs: opts.pollMs ?? 15_000,
  }
}

function write(
  ctx: HandlerContext,
  targets: readonly (StepTarget & { before: Record<string, unknown> })[],
  request: (t: StepTarget) => Omit<BatchRequest, 'id'>,
  after: Record<string, unknown>,
): Promise<Map<number, StepOutcome>> {
  return writeTargets(
    ctx,
    targets,
    request,
    { permission: WRITE_PERMISSION },
    {
      after: (t) => ({ ...t.before, ...after }),
      forbidden: (_t, detail) =>
        `403 Forbidden${detail}: the application needs ${WRITE_PERMISSION} (admin consent).`,
    },
  )
}

export function autopilotUnassignHandler(options: AutopilotOptions = {}): OperationHandler {
  const opts = withDefaults(options)
  return {
    system: 'autopilot',
    operation: 'unassignUser',
    describe: (t, current) => ({
      call: `POST ${identityPath(t.target)}/unassignUserFromDevice (in $batch)`,
      change: `the assigned user${current?.userPrincipalName ? ` ${String(current.userPrincipalName)}` : ''} is removed from the Autopilot device`,
    }),
    verify: (ctx, targets) => verifyAfterIntune(ctx, targets, opts, (i) => i.userPrincipalName === null),
    execute: (ctx, targets) =>
      write(
        ctx,
        targets,
        (t) => ({ method: 'POST', url: `${identityPath(t.target)}/unassignUserFromDevice` }),
        { userPrincipalName: null },
      ),
  }
}

export function autopilotDeleteHandler(options: AutopilotOptions = {}): OperationHandler {
  const opts = withDefaults(options)
  return {
    system: 'autopilot',
    operation: 'delete',
    removesTarget: true,
    describe: (t) => ({
      call: `DELETE ${identityPath(t.target)} (in $batch)`,
      change:
        'the device is deregistered from Windows Autopilot (asynchronous; cannot be undone by offboard)',
    }),
    verify: (ctx, targets) => verifyAfterIntune(ctx, targets, opts, () => false),
    execute: (ctx, targets) =>
      write(ctx, targets, (t) => ({ method: 'DELETE', url: identityPath(t.target) }), {
        deregistration: 'requested',
      }),
    // "Sync, then Refresh until the device is gone" (§6.3): read the identities until they are 404.
    async follow(ctx, steps) {
      const out = new Map<number, FollowResult>()
      let waiting = steps.filter((s) => s.after.deregistration === 'requested')
      const gone = await pollWithin(ctx, opts.deregisterWaitMs, opts.pollMs, async () => {
        if (waiting.length === 0) return true
        const seen = await readIdentities(ctx, waiting)
        waiting = waiting.filter((s) => {
          if (seen.get(s.stepId)?.kind !== 'gone') return true
          out.set(s.stepId, { kind: 'succeeded', after: { ...s.after, deregistration: 'complete' } })
          return false
        })
        return waiting.length === 0
      })
      if (!gone)
        for (const s of waiting)
          out.set(s.stepId, {
            kind: 'pending',
            after: s.after,
            reason: `the Autopilot identity was still listed ${Math.round(opts.deregisterWaitMs / 1000)} s after the delete; deregistration finishes on its own (Sync, then Refresh in the Intune admin center).`,
          })
      return out
    },
  }
}
