/**
 * @module Intune delete and retire of a managed device (`DELETE /deviceManagement/managedDevices/{id}`,
 * `POST …/{id}/retire`): opt-in operations, run only when the tenant policy's `optIn` list enables them
 * (decisions.md, "Automation levels"). Neither can be undone: a deleted record is gone, a retire removes company data.
 */
import { type BatchRequest, readTargets, writeTargets } from './graph-batch.js'
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

function readDevices(
  ctx: HandlerContext,
  targets: readonly StepTarget[],
  refuse: (state: Record<string, unknown>) => string | null,
): Promise<Map<number, Observation>> {
  return readTargets(
    ctx,
    targets,
    {
      url: (t) => `${devicePath(t.target)}?$select=${SELECT}`,
      permission: READ_PERMISSION,
      what: 'Intune record',
    },
    (_t, body) => {
      const state = stateOf(body)
      const refused = refuse(state)
      return refused
        ? { kind: 'error', reason: refused }
        : { kind: 'present', state, alreadyApplied: UNDERWAY.has(String(state.managementState)) }
    },
  )
}

function send(
  ctx: HandlerContext,
  targets: readonly (StepTarget & { before: Record<string, unknown> })[],
  request: (t: StepTarget) => Omit<BatchRequest, 'id'>,
  permission: string,
  after: Record<string, unknown>,
): Promise<Map<number, StepOutcome>> {
  return writeTargets(
    ctx,
    targets,
    request,
    { permission },
    {
      after: (t) => ({ ...t.before, ...after }),
      forbidden: (_t, detail) =>
        `403 Forbidden${detail}: the application needs ${permission} (admin consent).`,
    },
  )
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
      send(ctx, targets, (t) => ({ method: 'DELETE', url: devicePath(t.target) }), DELETE_PERMISSION, {
        deleted: true,
      }),
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
        (t) => ({ method: 'POST', url: `${devicePath(t.target)}/retire` }),
        RETIRE_PERMISSION,
        { managementState: 'retirePending' },
      ),
  }
}
