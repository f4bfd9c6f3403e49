/** @module Windows Autopilot as a source: device identities from Graph `/deviceManagement/windowsAutopilotDeviceIdentities`. */
import type { AutopilotRecord } from '../../domain/device.js'
import { blankToNull, normalizeGuid, normalizeSerial } from '../../domain/ids.js'
import { defineSource } from '../source.js'
import { AutopilotDeviceIdentity } from './schema.js'

export default defineSource({
  name: 'autopilot',
  title: 'Windows Autopilot',
  collection: 'windowsAutopilotDeviceIdentities',
  endpoint: { api: 'graph', path: '/deviceManagement/windowsAutopilotDeviceIdentities' },
  readPermission: 'DeviceManagementServiceConfig.Read.All',
  pageSize: 1000,
  selectExclude: [],
  schema: AutopilotDeviceIdentity,
  toRecord(raw): AutopilotRecord {
    return {
      source: 'autopilot',
      id: raw.id,
      serialNumber: blankToNull(raw.serialNumber),
      serialKey: normalizeSerial(raw.serialNumber),
      groupTag: blankToNull(raw.groupTag),
      enrollmentState: blankToNull(raw.enrollmentState),
      lastContactedDateTime: raw.lastContactedDateTime,
      userPrincipalName: blankToNull(raw.userPrincipalName),
      azureActiveDirectoryDeviceId: normalizeGuid(raw.azureActiveDirectoryDeviceId),
      managedDeviceId: normalizeGuid(raw.managedDeviceId),
      displayName: blankToNull(raw.displayName),
      manufacturer: blankToNull(raw.manufacturer),
      model: blankToNull(raw.model),
    }
  },
})
