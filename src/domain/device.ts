/** @module The normalised records of the four sources and the correlated view of one physical device. */
import { z } from 'zod'

export const SOURCE_NAMES = ['intune', 'entra', 'autopilot', 'defender'] as const
export const SourceName = z.enum(SOURCE_NAMES)
export type SourceName = z.infer<typeof SourceName>

export const Platform = z.enum(['windows', 'macOS', 'iOS', 'android', 'linux', 'other', 'unknown'])
export type Platform = z.infer<typeof Platform>

export const Ownership = z.enum(['company', 'personal', 'unknown'])
export type Ownership = z.infer<typeof Ownership>

/** Epoch milliseconds; null means the source has no usable value (blank, null or a placeholder date). */
const Ms = z.number().nullable()

/** Intune managed device, mapped from Graph `managedDevice` (reference §1.2). */
export const IntuneRecord = z.object({
  source: z.literal('intune'),
  id: z.string(),
  deviceName: z.string().nullable(),
  /** Entra `deviceId` (not the Entra object id), normalised; null when blank or the all-zero GUID. */
  azureADDeviceId: z.string().nullable(),
  serialNumber: z.string().nullable(),
  /** Join key derived from `serialNumber`; null for placeholders. */
  serialKey: z.string().nullable(),
  platform: Platform,
  operatingSystem: z.string().nullable(),
  osVersion: z.string().nullable(),
  lastSyncDateTime: Ms,
  enrolledDateTime: Ms,
  ownership: Ownership,
  deviceEnrollmentType: z.string().nullable(),
  managementAgent: z.string().nullable(),
  managementState: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
  manufacturer: z.string().nullable(),
  model: z.string().nullable(),
  deviceCategoryDisplayName: z.string().nullable(),
  /** Beta only (reference §0.1); null from v1.0 exports. */
  joinType: z.string().nullable(),
})
export type IntuneRecord = z.infer<typeof IntuneRecord>

/** Entra ID device object, mapped from Graph `device` (reference §2.2). */
export const EntraRecord = z.object({
  source: z.literal('entra'),
  id: z.string(),
  deviceId: z.string().nullable(),
  displayName: z.string().nullable(),
  accountEnabled: z.boolean().nullable(),
  approximateLastSignInDateTime: Ms,
  registrationDateTime: Ms,
  platform: Platform,
  operatingSystem: z.string().nullable(),
  operatingSystemVersion: z.string().nullable(),
  trustType: z.string().nullable(),
  profileType: z.string().nullable(),
  isManaged: z.boolean().nullable(),
  mdmAppId: z.string().nullable(),
  ownership: Ownership,
  enrollmentType: z.string().nullable(),
  managementType: z.string().nullable(),
  /** True when `physicalIds` holds a `[ZTDID]:` entry: the object belongs to Windows Autopilot (reference §2.3). */
  autopilotRegistered: z.boolean(),
  /** Group tag from `[OrderID]:<tag>` in `physicalIds`, when present. */
  groupTag: z.string().nullable(),
  onPremisesSyncEnabled: z.boolean().nullable(),
  deviceCategory: z.string().nullable(),
  manufacturer: z.string().nullable(),
  model: z.string().nullable(),
})
export type EntraRecord = z.infer<typeof EntraRecord>

/** Windows Autopilot device identity (reference §3.2). */
export const AutopilotRecord = z.object({
  source: z.literal('autopilot'),
  id: z.string(),
  serialNumber: z.string().nullable(),
  serialKey: z.string().nullable(),
  groupTag: z.string().nullable(),
  enrollmentState: z.string().nullable(),
  lastContactedDateTime: Ms,
  userPrincipalName: z.string().nullable(),
  azureActiveDirectoryDeviceId: z.string().nullable(),
  managedDeviceId: z.string().nullable(),
  displayName: z.string().nullable(),
  manufacturer: z.string().nullable(),
  model: z.string().nullable(),
})
export type AutopilotRecord = z.infer<typeof AutopilotRecord>

/** Defender for Endpoint machine (reference §4.2). */
export const DefenderRecord = z.object({
  source: z.literal('defender'),
  id: z.string(),
  computerDnsName: z.string().nullable(),
  firstSeen: Ms,
  lastSeen: Ms,
  platform: Platform,
  osPlatform: z.string().nullable(),
  osBuild: z.number().nullable(),
  version: z.string().nullable(),
  healthStatus: z.string().nullable(),
  onboardingStatus: z.string().nullable(),
  aadDeviceId: z.string().nullable(),
  machineTags: z.array(z.string()),
  isExcluded: z.boolean().nullable(),
  mergedIntoMachineId: z.string().nullable(),
  isPotentialDuplication: z.boolean().nullable(),
})
export type DefenderRecord = z.infer<typeof DefenderRecord>

export type AnyRecord = IntuneRecord | EntraRecord | AutopilotRecord | DefenderRecord

/** The kinds of join correlation uses, strongest first (decisions.md, "Matching records"). */
export const LinkVia = z.enum(['entraDeviceId', 'managedDeviceId', 'serialNumber'])
export type LinkVia = z.infer<typeof LinkVia>

/** How two records were joined. */
export const Link = z.object({
  from: z.object({ source: SourceName, id: z.string() }),
  to: z.object({ source: SourceName, id: z.string() }),
  via: LinkVia,
  value: z.string(),
})
export type Link = z.infer<typeof Link>

/** An id on a record that points at nothing in a connected source (e.g. Intune `azureADDeviceId` of a deleted Entra object). */
export interface DanglingReference {
  from: { source: SourceName; id: string }
  field: string
  value: string
  /** The source that should have held the target. */
  missingIn: SourceName
}

/** One physical device: every record the four sources hold for it, and how they were joined. */
export interface DeviceView {
  /** Stable key: the smallest `source:id` among its records, so it does not depend on input order. */
  key: string
  entra: EntraRecord[]
  intune: IntuneRecord[]
  autopilot: AutopilotRecord[]
  defender: DefenderRecord[]
  /** How the records were joined: derived when asked for (nothing in a run reads them; they explain a view). */
  readonly links: Link[]
  dangling: DanglingReference[]
  /** Why the joins cannot be trusted; a view with any entry is skipped as `ambiguousMatch` and never acted on. */
  ambiguities: string[]
  /** Serial numbers found in the Teams devices inventory (beta `/teamwork/devices`), when that export is present. */
  teamsDevice: boolean
}

/** Every record of a view, in source order then id order. */
export function recordsOf(view: DeviceView): AnyRecord[] {
  return [...view.intune, ...view.autopilot, ...view.entra, ...view.defender]
}
