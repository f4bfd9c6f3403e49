/** @module Graph v1.0 `windowsAutopilotDeviceIdentity`: only the fields offboard reads (reference §3.2). */
import { z } from 'zod'
import { label, recordId, text, timestamp } from '../schema-helpers.js'

export const AutopilotDeviceIdentity = z.object({
  id: recordId,
  serialNumber: text,
  groupTag: label,
  enrollmentState: label,
  lastContactedDateTime: timestamp,
  userPrincipalName: text,
  // "to be deprecated" in v1.0 (reference §0.2), still the only Entra link Autopilot gives.
  azureActiveDirectoryDeviceId: text,
  managedDeviceId: text,
  displayName: text,
  manufacturer: label,
  model: label,
})
export type AutopilotDeviceIdentity = z.infer<typeof AutopilotDeviceIdentity>
