/** @module Intune (MDM) as a source: managed devices from Graph `/deviceManagement/managedDevices`. */
import type { IntuneRecord } from '../../domain/device.js'
import { blankToNull, normalizeGuid, normalizeSerial } from '../../domain/ids.js'
import { ownershipFrom, platformFromOs } from '../../domain/platform.js'
import { defineSource } from '../source.js'
import { IntuneManagedDevice } from './schema.js'

export default defineSource({
  name: 'intune',
  title: 'Intune',
  collection: 'managedDevices',
  endpoint: { api: 'graph', path: '/deviceManagement/managedDevices' },
  readPermission: 'DeviceManagementManagedDevices.Read.All',
  // Intune documents no maximum $top; 1,000 is the page size observed (reference §1.3).
  pageSize: 1000,
  // joinType exists only in beta; $select of it on v1.0 is an error.
  selectExclude: ['joinType'],
  schema: IntuneManagedDevice,
  toRecord(raw): IntuneRecord {
    return {
      source: 'intune',
      id: raw.id,
      deviceName: blankToNull(raw.deviceName),
      azureADDeviceId: normalizeGuid(raw.azureADDeviceId),
      serialNumber: blankToNull(raw.serialNumber),
      serialKey: normalizeSerial(raw.serialNumber),
      platform: platformFromOs(raw.operatingSystem),
      operatingSystem: blankToNull(raw.operatingSystem),
      osVersion: blankToNull(raw.osVersion),
      lastSyncDateTime: raw.lastSyncDateTime,
      enrolledDateTime: raw.enrolledDateTime,
      ownership: ownershipFrom(raw.managedDeviceOwnerType),
      deviceEnrollmentType: blankToNull(raw.deviceEnrollmentType),
      managementAgent: blankToNull(raw.managementAgent),
      managementState: blankToNull(raw.managementState),
      userPrincipalName: blankToNull(raw.userPrincipalName),
      manufacturer: blankToNull(raw.manufacturer),
      model: blankToNull(raw.model),
      deviceCategoryDisplayName: blankToNull(raw.deviceCategoryDisplayName),
      joinType: blankToNull(raw.joinType),
    }
  },
})
