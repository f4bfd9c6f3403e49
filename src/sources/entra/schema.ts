/** @module Graph v1.0 `device`: only the fields offboard reads (reference §2.2). */
import { z } from 'zod'
import { flag, recordId, text, textList, timestamp } from '../schema-helpers.js'

export const EntraDevice = z.object({
  id: recordId,
  deviceId: text,
  displayName: text,
  accountEnabled: flag,
  approximateLastSignInDateTime: timestamp,
  registrationDateTime: timestamp,
  operatingSystem: text,
  operatingSystemVersion: text,
  trustType: text,
  profileType: text,
  isManaged: flag,
  mdmAppId: text,
  deviceOwnership: text,
  enrollmentType: text,
  managementType: text,
  physicalIds: textList,
  onPremisesSyncEnabled: flag,
  deviceCategory: text,
  manufacturer: text,
  model: text,
})
export type EntraDevice = z.infer<typeof EntraDevice>
