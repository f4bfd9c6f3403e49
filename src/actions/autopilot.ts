/**
 * @module Windows Autopilot deregistration, opt-in as `autopilot.deregister` (reference §6.3): unassign the user
 * (`POST …/{id}/unassignUserFromDevice`), then delete the identity (`DELETE …/{id}`) — both only once the device's
 * Intune record is confirmed gone, because deregistering first can leave orphaned or unrecoverable devices. Intune
 * deletes settle asynchronously, so the check waits, bounded, polling. Deregistration is asynchronous too: after the
 * DELETE the identity is followed until it disappears (or the wait ends and the act says it is still pending).
 */
import { defaultSleep } from '../lib/rate-limiter.js'
import { type BatchRequest, itemErrorText, sendBatch, writeOutcome } from './graph-batch.js'
import type {
  FollowResult,
  HandlerContext,
  Observation,
  OperationHandler,
  StepOutcome,
  StepTarget,
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

async function readIdentities(ctx: HandlerContext, targets: readonly StepTarget[]) {
  const results = await sendBatch(
    ctx.graph,
    targets.map((t) => ({
      id: String(t.stepId),
      method: 'GET',
      url: `${identityPath(t.target)}?$select=${SELECT}`,
    })),
    { permission: READ_PERMISSION, ...(ctx.sleep ? { sleep: ctx.sleep } : {}) },
  )
  return results
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
  const out = new Map<number, Observation>()
  const read = await readIdentities(ctx, targets)
  const waiting = new Map<number, Identity>()
  for (const t of targets) {
    const r = read.get(String(t.stepId)) ?? { status: 0, body: null }
    if (r.status === 404) out.set(t.stepId, { kind: 'gone' })
    else if (r.status !== 200)
      out.set(t.stepId, {
        kind: 'error',
        reason: `reading the Autopilot identity failed: HTTP ${r.status}${itemErrorText(r.body)}`,
      })
    else {
      const identity = identityOf(r.body)
      if (applied(identity))
        out.set(t.stepId, { kind: 'present', state: stateOf(identity), alreadyApplied: true })
      else waiting.set(t.stepId, identity)
    }
  }
  const now = ctx.now ?? Date.now
  const sleep = ctx.sleep ?? defaultSleep
  const deadline = now() + opts.intuneWaitMs
  for (;;) {
    if (waiting.size === 0) break
    const left = await intuneLeftovers(ctx, waiting)
    for (const [stepId, identity] of [...waiting]) {
      if (left.get(stepId) !== null) continue
      out.set(stepId, { kind: 'present', state: stateOf(identity), alreadyApplied: false })
      waiting.delete(stepId)
    }
    if (waiting.size === 0 || now() + opts.pollMs > deadline) {
      for (const [stepId] of waiting)
        out.set(stepId, {
          kind: 'error',
          reason:
            `${left.get(stepId)} is still in Intune after waiting ${Math.round(opts.intuneWaitMs / 1000)} s. ` +
            'Autopilot deregistration comes after the Intune delete (reference §6.3): delete the Intune record ' +
            '(or let its pending delete finish), then run offboard act again.',
        })
      break
    }
    await sleep(opts.pollMs)
  }
  return out
}

function withDefaults(opts: AutopilotOptions): Required<AutopilotOptions> {
  return {
    intuneWaitMs: opts.intuneWaitMs ?? 5 * 60_000,
    deregisterWaitMs: opts.deregisterWaitMs ?? 5 * 60_000,
    pollMs: opts.pollMs ?? 15_000,
  }
}

async function write(
  ctx: HandlerContext,
  targets: readonly (StepTarget & { before: Record<string, unknown> })[],
  request: (t: StepTarget) => BatchRequest,
  after: Record<string, unknown>,
): Promise<Map<number, StepOutcome>> {
  const results = await sendBatch(ctx.graph, targets.map(request), {
    permission: WRITE_PERMISSION,
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
  })
  const out = new Map<number, StepOutcome>()
  for (const t of targets)
    out.set(
      t.stepId,
      writeOutcome(
        results.get(String(t.stepId)),
        { ...t.before, ...after },
        (detail) => `403 Forbidden${detail}: the application needs ${WRITE_PERMISSION} (admin consent).`,
      ),
    )
  return out
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
        (t) => ({
          id: String(t.stepId),
          method: 'POST',
          url: `${identityPath(t.target)}/unassignUserFromDevice`,
        }),
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
      write(ctx, targets, (t) => ({ id: String(t.stepId), method: 'DELETE', url: identityPath(t.target) }), {
        deregistration: 'requested',
      }),
    // "Sync, then Refresh until the device is gone" (§6.3): read the identities until they are 404.
    async follow(ctx, steps) {
      const out = new Map<number, FollowResult>()
      let waiting = steps.filter((s) => s.after.deregistration === 'requested')
      const now = ctx.now ?? Date.now
      const sleep = ctx.sleep ?? defaultSleep
      const deadline = now() + opts.deregisterWaitMs
      while (waiting.length > 0) {
        const read = await readIdentities(ctx, waiting)
        const still: typeof waiting = []
        for (const s of waiting) {
          const r = read.get(String(s.stepId))
          if (r?.status === 404)
            out.set(s.stepId, { kind: 'succeeded', after: { ...s.after, deregistration: 'complete' } })
          else still.push(s)
        }
        waiting = still
        if (waiting.length === 0) break
        if (now() + opts.pollMs > deadline) {
          for (const s of waiting)
            out.set(s.stepId, {
              kind: 'pending',
              after: s.after,
              reason: `the Autopilot identity was still listed ${Math.round(opts.deregisterWaitMs / 1000)} s after the delete; deregistration finishes on its own (Sync, then Refresh in the Intune admin center).`,
            })
          break
        }
        await sleep(opts.pollMs)
      }
      return out
    },
  }
}
