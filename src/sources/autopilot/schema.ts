/** @module Graph v1.0 `windowsAutopilotDeviceIdentity`: only the fields offboard reads (reference §3.2). */
import { z } from 'zod'
import { recordId, text, timestamp } from '../schema-helpers.js'

export const AutopilotDeviceIdentity = z.object({
  id: recordId,
  serialNumber: text,
  groupTag: text,
  enrollmentState: text,
  lastContactedDateTime: timestamp,
  userPrincipalName: text,
  // "to be deprecated" in v1.0 (reference §0.2), still the only Entra link Autopilot gives.
  azureActiveDirectoryDeviceId: text,
  managedDeviceId: text,
  displayName: text,
  manufacturer: text,
  model: text,
})
export type AutopilotDeviceIdentity = z.infer<typeof AutopilotDeviceIdentity>
