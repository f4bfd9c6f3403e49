/**
 * @module Step 3 of a plan: disable the Entra object (offboard's own action); delete it only after the grace
 * period, with recovery keys exported, and never for an Autopilot device (decisions.md; reference §2.5, §6.1).
 */
import type { EntraRecord } from '../../domain/device.js'
import { quote } from '../../domain/text.js'
import type { DraftAction } from '../plan.js'

export interface EntraStepOptions {
  entraDeleteGraceDays: number
  staleAfterDays: number
  /** The device has an Autopilot identity. */
  autopilotBound: boolean
  lastActivityDays: number | null
}

export function entraStep(e: EntraRecord, opts: EntraStepOptions): DraftAction | null {
  const name = quote(e.displayName ?? e.id)
  if (e.accountEnabled !== false) {
    const warnings =
      e.platform === 'windows'
        ? []
        : [
            'App-only permissions cannot disable non-Windows device objects (Graph lets them change only extensionAttributes): ' +
              'sign in as a user with ' +
              'Cloud Device Administrator or Intune Administrator to run this step.',
          ]
    return {
      system: 'entra',
      operation: 'disable',
      target: e.id,
      targetName: e.displayName,
      automation: 'agent',
      instructions:
        `Entra admin center › Devices › All devices › ${name} › Disable. offboard can do this itself after a dry run; ` +
        'it is undone by enabling the object again.',
      prerequisites: [],
      warnings,
      request: { api: 'graph', method: 'PATCH', path: `/devices/${e.id}`, body: { accountEnabled: false } },
    }
  }
  // Already disabled: delete only when Autopilot is not involved and the grace period has surely passed.
  if (e.autopilotRegistered || opts.autopilotBound) return null
  const dueAfter = opts.staleAfterDays + opts.entraDeleteGraceDays
  if (opts.lastActivityDays === null || opts.lastActivityDays < dueAfter) return null
  return {
    system: 'entra',
    operation: 'delete',
    target: e.id,
    targetName: e.displayName,
    automation: 'optIn',
    instructions:
      `Export the BitLocker recovery keys of ${name} (offboard keys export), confirm it has been disabled for at least ` +
      `${opts.entraDeleteGraceDays} days, then Entra admin center › Devices › All devices › ${name} › Delete.`,
    prerequisites: [
      `The object has been disabled for at least ${opts.entraDeleteGraceDays} days (offboard cannot see when it was disabled; it was last active ${opts.lastActivityDays} days ago).`,
      'BitLocker recovery keys are exported: deleting the object deletes them.',
    ],
    warnings: ['Deleting an Entra device object cannot be undone.'],
    request: { api: 'graph', method: 'DELETE', path: `/devices/${e.id}` },
  }
}
