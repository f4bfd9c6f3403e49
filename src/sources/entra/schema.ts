/** @module Graph v1.0 `device`: only the fields offboard reads (reference §2.2). */
import { z } from 'zod'
import { flag, label, recordId, text, textList, timestamp } from '../schema-helpers.js'

export const EntraDevice = z.object({
  id: recordId,
  deviceId: text,
  displayName: text,
  accountEnabled: flag,
  approximateLastSignInDateTime: timestamp,
  registrationDateTime: timestamp,
  operatingSystem: label,
  operatingSystemVersion: label,
  trustType: label,
  profileType: label,
  isManaged: flag,
  mdmAppId: label,
  deviceOwnership: label,
  enrollmentType: label,
  managementType: label,
  physicalIds: textList,
  onPremisesSyncEnabled: flag,
  deviceCategory: label,
  manufacturer: label,
  model: label,
})
export type EntraDevice = z.infer<typeof EntraDevice>
