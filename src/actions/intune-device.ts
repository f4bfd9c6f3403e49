/**
 * @module Intune delete and retire of a managed device (`DELETE /deviceManagement/managedDevices/{id}`,
 * `POST …/{id}/retire`): opt-in operations, run only when the tenant policy's `optIn` list enables them
 * (decisions.md, "Automation levels"). Neither can be undone: a deleted record is gone, a retire removes company data.
 */
import { type BatchRequest, itemErrorText, sendBatch, writeOutcome } from './graph-batch.js'
import type { HandlerContext, Observation, OperationHandler, StepOutcome, StepTarget } from './handler.js'

/** Reference §1.4: reading managed devices. */
const READ_PERMISSION = 'DeviceManagementManagedDevices.Read.All'
const DELETE_PERMISSION = 'DeviceManagementManagedDevices.ReadWrite.All'
const RETIRE_PERMISSION = 'DeviceManagementManagedDevices.PrivilegedOperations.All'
const SELECT = 'id,deviceName,managementState,managedDeviceOwnerType,operatingSystem'
/** A retire or delete already asked for (by us before a crash, or by someone else): sending it again changes nothing. */
const UNDERWAY = new Set(['retirePending', 'deletePending', 'retireIssued', 'wipePending'])

const devicePath = (id: string) => `/deviceManagement/managedDevices/${encodeURIComponent(id)}`

function stateOf(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>
  return {
    managementState: b.managementState ?? null,
    managedDeviceOwnerType: b.managedDeviceOwnerType ?? null,
    operatingSystem: b.operatingSystem ?? null,
    deviceName: b.deviceName ?? null,
  }
}

async function readDevices(
  ctx: HandlerContext,
  targets: readonly StepTarget[],
  refuse: (state: Record<string, unknown>) => string | null,
): Promise<Map<number, Observation>> {
  const results = await sendBatch(
    ctx.graph,
    targets.map((t) => ({
      id: String(t.stepId),
      method: 'GET',
      url: `${devicePath(t.target)}?$select=${SELECT}`,
    })),
    { permission: READ_PERMISSION, ...(ctx.sleep ? { sleep: ctx.sleep } : {}) },
  )
  const out = new Map<number, Observation>()
  for (const t of targets) {
    const r = results.get(String(t.stepId)) ?? { status: 0, body: null }
    if (r.status === 200) {
      const state = stateOf(r.body)
      const refused = refuse(state)
      if (refused) out.set(t.stepId, { kind: 'error', reason: refused })
      else
        out.set(t.stepId, {
          kind: 'present',
          state,
          alreadyApplied: UNDERWAY.has(String(state.managementState)),
        })
    } else if (r.status === 404) out.set(t.stepId, { kind: 'gone' })
    else
      out.set(t.stepId, {
        kind: 'error',
        reason: `reading the Intune record failed: HTTP ${r.status}${itemErrorText(r.body)}`,
      })
  }
  return out
}

async function send(
  ctx: HandlerContext,
  targets: readonly (StepTarget & { before: Record<string, unknown> })[],
  request: (t: StepTarget) => BatchRequest,
  permission: string,
  after: Record<string, unknown>,
): Promise<Map<number, StepOutcome>> {
  const results = await sendBatch(ctx.graph, targets.map(request), {
    permission,
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
  })
  const out = new Map<number, StepOutcome>()
  for (const t of targets) {
    out.set(
      t.stepId,
      writeOutcome(
        results.get(String(t.stepId)),
        { ...t.before, ...after },
        (detail) => `403 Forbidden${detail}: the application needs ${permission} (admin consent).`,
      ),
    )
  }
  return out
}

/** Deleting a personal device's record would leave the user's device unmanaged with company data: the plan retires those. */
function personalRefused(state: Record<string, unknown>): string | null {
  return state.managedDeviceOwnerType === 'personal'
    ? 'a personal device is not deleted from Intune: retire it instead (decisions.md, "The plan").'
    : null
}

export function intuneDeleteHandler(): OperationHandler {
  return {
    system: 'intune',
    operation: 'delete',
    removesTarget: true,
    describe: (t) => ({
      call: `DELETE ${devicePath(t.target)} (in $batch)`,
      change: 'the Intune record is removed (cannot be undone)',
    }),
    verify: (ctx, targets) => readDevices(ctx, targets, personalRefused),
    execute: (ctx, targets) =>
      send(
        ctx,
        targets,
        (t) => ({ id: String(t.stepId), method: 'DELETE', url: devicePath(t.target) }),
        DELETE_PERMISSION,
        { deleted: true },
      ),
  }
}

export function intuneRetireHandler(): OperationHandler {
  return {
    system: 'intune',
    operation: 'retire',
    describe: (t) => ({
      call: `POST ${devicePath(t.target)}/retire (in $batch)`,
      change: 'company data and profiles are removed at the next check-in (cannot be undone)',
    }),
    verify: (ctx, targets) => readDevices(ctx, targets, () => null),
    execute: (ctx, targets) =>
      send(
        ctx,
        targets,
        (t) => ({ id: String(t.stepId), method: 'POST', url: `${devicePath(t.target)}/retire` }),
        RETIRE_PERMISSION,
        { managementState: 'retirePending' },
      ),
  }
}
