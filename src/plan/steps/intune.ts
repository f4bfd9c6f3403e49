/** @module Step 1 of a plan: remove the Intune record (delete for corporate devices, retire for personal ones). */
import type { IntuneRecord } from '../../domain/device.js'
import { quote } from '../../domain/text.js'
import type { DraftAction } from '../plan.js'

/** States in which Intune is already retiring, wiping or deleting the device. */
const ALREADY_UNDERWAY = new Set([
  'retirepending',
  'retireissued',
  'wipepending',
  'wipeissued',
  'deletepending',
])

/** Intune sends a wipe, not a retire, when these are deleted (reference §1.4). */
const DELETE_WIPES = new Set([
  'androidenterprisefullymanaged',
  'androidenterprisededicateddevice',
  'androidenterprisecorporateworkprofile',
  'androidaospuserowneddeviceenrollment',
  'androidaospuserlessdeviceenrollment',
])

export function intuneStep(r: IntuneRecord): DraftAction | null {
  if (ALREADY_UNDERWAY.has(r.managementState?.toLowerCase() ?? '')) return null
  const name = quote(r.deviceName ?? r.id)
  const warnings: string[] = []
  const enrollment = r.deviceEnrollmentType?.toLowerCase() ?? ''
  if (r.ownership === 'personal') {
    // Never wipe a personal device: retire removes only company data and management.
    return {
      system: 'intune',
      operation: 'retire',
      target: r.id,
      targetName: r.deviceName,
      automation: 'optIn',
      instructions:
        `Intune admin center › Devices › All devices › ${name} › Retire. This removes company data and management ` +
        'and leaves personal data alone.',
      prerequisites: [],
      warnings,
      request: { api: 'graph', method: 'POST', path: `/deviceManagement/managedDevices/${r.id}/retire` },
    }
  }
  if (DELETE_WIPES.has(enrollment)) {
    warnings.push(
      `Deleting this ${r.deviceEnrollmentType} device makes Intune send a WIPE, not a retire: the device is reset to factory settings.`,
    )
  } else if (
    r.platform === 'android' &&
    !enrollment.includes('workprofile') &&
    enrollment !== 'userenrollment'
  ) {
    warnings.push(
      'A corporate Android device (fully managed, dedicated, COPE or AOSP) is WIPED when deleted from Intune; v1.0 does not say which type this is.',
    )
  }
  if (r.platform === 'windows') {
    warnings.push(
      'Deleting or retiring an Entra-joined Windows device suspends BitLocker; back up its recovery key and LAPS password first.',
    )
  }
  return {
    system: 'intune',
    operation: 'delete',
    target: r.id,
    targetName: r.deviceName,
    automation: 'optIn',
    instructions:
      `Intune admin center › Devices › All devices › ${name} (serial ${quote(r.serialNumber ?? 'unknown')}) › Delete. ` +
      'Note the serial number first; Autopilot deregistration needs it.',
    prerequisites: [],
    warnings,
    request: { api: 'graph', method: 'DELETE', path: `/deviceManagement/managedDevices/${r.id}` },
  }
}
