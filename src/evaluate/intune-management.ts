/** @module Whether an Entra object says Intune manages the device (the "removed from Intune" signal). */
import type { EntraRecord } from '../domain/device.js'

/** Intune's MDM application id as Entra records it in `mdmAppId` (reference §2.2). */
export const INTUNE_MDM_APP_ID = '0000000a-0000-0000-c000-000000000000'

/** Entra believes Intune manages this device: `isManaged` with Intune's `mdmAppId` (or no app id but an Intune management type). */
export function claimsIntuneManagement(e: EntraRecord): boolean {
  if (e.isManaged !== true) return false
  if (e.mdmAppId === INTUNE_MDM_APP_ID) return true
  return e.mdmAppId === null && e.managementType !== null
}
