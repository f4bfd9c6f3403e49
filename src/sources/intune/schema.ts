/** @module Graph v1.0 `managedDevice`: only the fields offboard reads (reference §1.2). */
import { z } from 'zod'
import { label, recordId, text, timestamp } from '../schema-helpers.js'

export const IntuneManagedDevice = z.object({
  id: recordId,
  deviceName: text,
  azureADDeviceId: text,
  serialNumber: text,
  operatingSystem: label,
  osVersion: label,
  lastSyncDateTime: timestamp,
  enrolledDateTime: timestamp,
  managedDeviceOwnerType: label,
  deviceEnrollmentType: label,
  managementAgent: label,
  managementState: label,
  userPrincipalName: text,
  manufacturer: label,
  model: label,
  deviceCategoryDisplayName: label,
  // Beta only (reference §0.1); a v1.0 export simply lacks it.
  joinType: label,
})
export type IntuneManagedDevice = z.infer<typeof IntuneManagedDevice>
