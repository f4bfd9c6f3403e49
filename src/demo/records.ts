/** @module Raw records exactly as the Graph, Defender and Teams APIs export them (field order and spelling of the sample scenarios). */

/** Intune's app id, which Entra stores in `mdmAppId` for Intune-managed devices (reference §2.2). */
export const INTUNE_MDM_APP_ID = '0000000a-0000-0000-c000-000000000000'
/** Unset non-nullable Graph dates (reference §0.13). */
export const ZERO_DATE = '0001-01-01T00:00:00Z'
/** Autopilot's `managedDeviceId` before a device is deployed. */
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000'

export const ODATA_CONTEXT = {
  managedDevices: 'https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices',
  devices: 'https://graph.microsoft.com/v1.0/$metadata#devices',
  windowsAutopilotDeviceIdentities:
    'https://graph.microsoft.com/v1.0/$metadata#deviceManagement/windowsAutopilotDeviceIdentities',
  machines: 'https://api.security.microsoft.com/api/$metadata#Machines',
  teamworkDevices: 'https://graph.microsoft.com/beta/$metadata#teamwork/devices',
} as const

/** Graph v1.0 `managedDevice`, the fields the sample exports carry. */
export interface DemoManagedDevice {
  id: string
  deviceName: string
  userPrincipalName: string
  userDisplayName: string
  managedDeviceOwnerType: 'company' | 'personal'
  enrolledDateTime: string
  lastSyncDateTime: string
  operatingSystem: string
  osVersion: string
  complianceState: string
  managementAgent: string
  deviceEnrollmentType: string
  deviceRegistrationState: string
  azureADRegistered: boolean
  azureADDeviceId: string
  serialNumber: string
  manufacturer: string
  model: string
  isSupervised: boolean
  deviceCategoryDisplayName: string
  emailAddress: string
  wiFiMacAddress: string
  totalStorageSpaceInBytes: number
  freeStorageSpaceInBytes: number
}

/** Graph v1.0 `device` (Entra ID). */
export interface DemoEntraDevice {
  id: string
  deviceId: string
  displayName: string
  accountEnabled: boolean
  approximateLastSignInDateTime: string | null
  registrationDateTime: string
  operatingSystem: string
  operatingSystemVersion: string
  trustType: string | null
  profileType: string
  isManaged: boolean
  isCompliant: boolean
  mdmAppId: string | null
  deviceOwnership: string | null
  enrollmentType: string | null
  managementType: string | null
  onPremisesSyncEnabled: boolean | null
  onPremisesLastSyncDateTime: string | null
  physicalIds: string[]
  systemLabels: string[]
  extensionAttributes: Record<string, string | null>
}

/** Graph v1.0 `windowsAutopilotDeviceIdentity`. */
export interface DemoAutopilotIdentity {
  id: string
  groupTag: string
  purchaseOrderIdentifier: string
  serialNumber: string
  productKey: string
  manufacturer: string
  model: string
  enrollmentState: 'enrolled' | 'notContacted'
  lastContactedDateTime: string
  addressableUserName: string
  userPrincipalName: string
  azureActiveDirectoryDeviceId: string
  managedDeviceId: string
  displayName: string
}

/** Defender for Endpoint machine, including the undocumented fields real responses carry (reference §4.2). */
export interface DemoMachine {
  id: string
  computerDnsName: string
  firstSeen: string
  lastSeen: string
  osPlatform: string
  version: string | null
  osBuild: number | null
  osProcessor: string
  agentVersion: string
  lastIpAddress: string
  lastExternalIpAddress: string
  healthStatus: 'Active' | 'Inactive'
  onboardingStatus: 'Onboarded'
  rbacGroupId: number
  rbacGroupName: string | null
  riskScore: string
  exposureLevel: string
  isAadJoined: boolean
  aadDeviceId: string | null
  machineTags: string[]
  deviceValue: string
  managedBy: string
  isExcluded: boolean
  mergedIntoMachineId: string | null
  isPotentialDuplication: boolean
}

/** Beta `teamworkDevice` (`GET /teamwork/devices`). */
export interface DemoTeamworkDevice {
  id: string
  deviceType: string
  hardwareDetail: {
    serialNumber: string
    uniqueId: string
    macAddresses: string[]
    manufacturer: string
    model: string
  }
  notes: string | null
  companyAssetTag: string | null
  healthStatus: 'healthy' | 'nonUrgent' | 'critical' | 'offline'
  activityState: 'busy' | 'idle' | 'unavailable' | 'unknown'
  createdDateTime: string
  lastModifiedDateTime: string
  currentUser: { id: string; displayName: string; userIdentityType: 'aadUser' }
}

/** All the records one physical device leaves behind, by export file. */
export interface DemoRecords {
  managedDevices: DemoManagedDevice[]
  devices: DemoEntraDevice[]
  windowsAutopilotDeviceIdentities: DemoAutopilotIdentity[]
  machines: DemoMachine[]
  teamworkDevices: DemoTeamworkDevice[]
}

export const SOURCE_FILES = [
  'managedDevices',
  'devices',
  'windowsAutopilotDeviceIdentities',
  'machines',
  'teamworkDevices',
] as const
export type SourceFile = (typeof SOURCE_FILES)[number]

export function emptyRecords(): DemoRecords {
  return {
    managedDevices: [],
    devices: [],
    windowsAutopilotDeviceIdentities: [],
    machines: [],
    teamworkDevices: [],
  }
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))
const SECONDS_PER_DAY = 86_400
// Constants of Howard Hinnant's days-to-civil algorithm (proleptic Gregorian, 400-year eras).
const DAYS_0000_TO_1970 = 719_468
const DAYS_PER_ERA = 146_097
const YEARS_PER_ERA = 400

/**
 * Graph style: whole seconds, `Z`, no fraction (e.g. `2026-10-30T08:15:00Z`), for years 1000–9999.
 * Hand-rolled because Date#toISOString was a third of generation time for large tenants; the tests compare both.
 */
export function isoSeconds(ms: number): string {
  const total = Math.floor(ms / 1000)
  const days = Math.floor(total / SECONDS_PER_DAY)
  let rest = total - days * SECONDS_PER_DAY
  const hour = Math.floor(rest / 3600)
  rest -= hour * 3600
  const minute = Math.floor(rest / 60)
  const second = rest - minute * 60
  const z = days + DAYS_0000_TO_1970
  const era = Math.floor(z / DAYS_PER_ERA)
  const doe = z - era * DAYS_PER_ERA
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * YEARS_PER_ERA + (month <= 2 ? 1 : 0)
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}Z`
}
