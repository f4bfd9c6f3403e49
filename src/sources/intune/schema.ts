/** @module Graph v1.0 `managedDevice`: only the fields offboard reads (reference §1.2). */
import { z } from 'zod'
import { recordId, text, timestamp } from '../schema-helpers.js'

export const IntuneManagedDevice = z.object({
  id: recordId,
  deviceName: text,
  azureADDeviceId: text,
  serialNumber: text,
  operatingSystem: text,
  osVersion: text,
  lastSyncDateTime: timestamp,
  enrolledDateTime: timestamp,
  managedDeviceOwnerType: text,
  deviceEnrollmentType: text,
  managementAgent: text,
  managementState: text,
  userPrincipalName: text,
  manufacturer: text,
  model: text,
  deviceCategoryDisplayName: text,
  // Beta only (reference §0.1); a v1.0 export simply lacks it.
  joinType: text,
})
export type IntuneManagedDevice = z.infer<typeof IntuneManagedDevice>
