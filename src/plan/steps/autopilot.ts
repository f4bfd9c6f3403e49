/** @module Step 2 of a plan: deregister from Windows Autopilot — unassign the user, then delete the identity (reference §6.3). */
import type { AutopilotRecord } from '../../domain/device.js'
import { quote } from '../../domain/text.js'
import type { DraftAction } from '../plan.js'

const PATH = '/deviceManagement/windowsAutopilotDeviceIdentities'

export function autopilotSteps(ap: AutopilotRecord, opts: { afterIntune: boolean }): DraftAction[] {
  const serial = quote(ap.serialNumber ?? ap.id)
  const prerequisites = opts.afterIntune
    ? ['The Intune record is deleted and no longer listed in Intune (the documented deregistration order).']
    : []
  const steps: DraftAction[] = []
  if (ap.userPrincipalName) {
    steps.push({
      system: 'autopilot',
      operation: 'unassignUser',
      target: ap.id,
      targetName: ap.serialNumber,
      automation: 'optIn',
      instructions: `Intune admin center › Devices › Windows › Enrollment › Windows Autopilot › Devices › serial ${serial} › … › Unassign user (${quote(ap.userPrincipalName)}).`,
      prerequisites,
      warnings: [],
      request: { api: 'graph', method: 'POST', path: `${PATH}/${ap.id}/unassignUserFromDevice` },
    })
  }
  steps.push({
    system: 'autopilot',
    operation: 'delete',
    target: ap.id,
    targetName: ap.serialNumber,
    automation: 'optIn',
    instructions:
      `Intune admin center › Devices › Windows › Enrollment › Windows Autopilot › Devices › serial ${serial} › Delete. ` +
      'Deregistration is asynchronous: Sync, then Refresh every few minutes until the device is gone.',
    prerequisites: ap.userPrincipalName
      ? [...prerequisites, 'The user is unassigned (previous step).']
      : prerequisites,
    warnings: [
      'Do not delete the Entra object by hand afterwards: deregistration handles it, and a manual delete can break Autopilot.',
    ],
    request: { api: 'graph', method: 'DELETE', path: `${PATH}/${ap.id}` },
  })
  return steps
}
