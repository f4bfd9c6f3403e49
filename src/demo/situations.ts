/** @module The device situations of the demo tenant: how each one leaves records across Intune, Entra, Autopilot, Defender and Teams. */
import {
  DNS_SUFFIX,
  GROUP_TAGS,
  type Kind,
  MODELS,
  type Model,
  type OsInfo,
  osFor,
  PLACEHOLDER_SERIALS,
  roomAccount,
  serialFor,
  storageFor,
  type User,
  userNumber,
} from './catalog.js'
import { type Rng, scramble } from './prng.js'
import {
  type DemoAutopilotIdentity,
  type DemoEntraDevice,
  type DemoMachine,
  type DemoManagedDevice,
  type DemoRecords,
  type DemoTeamworkDevice,
  INTUNE_MDM_APP_ID,
  isoSeconds,
  ZERO_DATE,
  ZERO_GUID,
} from './records.js'

/** Every situation the generator produces, in the order small tenants receive them. */
export const DEMO_SITUATIONS = [
  'healthy',
  'staleEverywhere',
  'removedFromIntune',
  'removedFromIntuneStillActive',
  'reimagedDuplicate',
  'defenderOrphan',
  'autopilotLeftover',
  'autopilotNotDeployed',
  'intuneSilent',
  'defenderSilent',
  'hybridJoined',
  'sharedDevice',
  'teamsDevice',
  'systemDevice',
  'blankTimestamps',
  'alreadyDisabled',
  'ambiguousEntra',
  'danglingEntraReference',
  'placeholderSerial',
  'defenderServer',
] as const
export type DemoSituation = (typeof DEMO_SITUATIONS)[number]

/** Share of physical devices per situation in a large tenant; `healthy` takes whatever is left (about two thirds). */
export const SITUATION_RATES: Record<Exclude<DemoSituation, 'healthy'>, number> = {
  staleEverywhere: 0.06,
  removedFromIntune: 0.04,
  removedFromIntuneStillActive: 0.01,
  reimagedDuplicate: 0.02,
  defenderOrphan: 0.015,
  autopilotLeftover: 0.015,
  autopilotNotDeployed: 0.01,
  intuneSilent: 0.015,
  defenderSilent: 0.01,
  hybridJoined: 0.05,
  sharedDevice: 0.02,
  teamsDevice: 0.005,
  systemDevice: 0.002,
  blankTimestamps: 0.005,
  alreadyDisabled: 0.01,
  ambiguousEntra: 0.001,
  danglingEntraReference: 0.005,
  placeholderSerial: 0.002,
  defenderServer: 0.045,
}

const DAY_MS = 86_400_000
const SECOND_MS = 1000
const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000

/** Age ranges in days, [min, max). */
type Days = readonly [number, number]
const RECENT_ENTRA: Days = [0, 20]
const RECENT_INTUNE: Days = [0, 7]
const RECENT_DEFENDER: Days = [0, 5]
const RECENT_AUTOPILOT: Days = [0, 20]
const OFFLINE_A_WHILE: Days = [7, 20]
const OFFLINE_A_WHILE_SHARE = 0.08
const STALE: Days = [100, 395]
/** Extra days one source may lag behind another on a stale device, keeping all of them within 100–400 days. */
const STALE_JITTER_DAYS = 5
const REMOVED_SIGN_IN: Days = [95, 300]
const STILL_ACTIVE_SIGN_IN: Days = [0, 10]
const REIMAGE_OLD: Days = [120, 300]
const ORPHAN: Days = [100, 300]
const AUTOPILOT_LEFTOVER: Days = [120, 390]
const SILENT: Days = [100, 200]
const NOT_DEPLOYED_IMPORTED: Days = [1, 90]
const SERVER_ACTIVE: Days = [0, 2]
const SERVER_INACTIVE: Days = [8, 200]
const PRINTER_OLD: Days = [30, 200]
const SAME_WEEK: Days = [0, 7]
/** How long before its first activity a device was registered. */
const DEPLOYED_BEFORE: Days = [20, 900]
/** Defender calls a machine Inactive once it has sent no signal for 7 days (reference §4.2). */
const DEFENDER_ACTIVE_DAYS = 7

const AUTOPILOT_SHARE = 0.55
const DEFENDER_COVERAGE: Partial<Record<Kind, number>> = {
  laptop: 0.9,
  desktop: 0.9,
  whitebox: 0.9,
  kiosk: 0.9,
  mac: 0.7,
  iphone: 0.4,
  ipad: 0.4,
  android: 0.4,
}
const FQDN_SHARE = 0.3
const NUMBER_WIDTH = 4

/** Where a device's sequential names come from; shared by all devices of one tenant so names stay unique. */
export class NameCounter {
  private readonly next = new Map<string, number>()

  take(prefix: string): string {
    const n = (this.next.get(prefix) ?? 0) + 1
    this.next.set(prefix, n)
    return `${prefix}-${String(n).padStart(NUMBER_WIDTH, '0')}`
  }
}

export interface BuildContext {
  rng: Rng
  seed: number
  /** Physical device number, 0-based; serials derive from it so they are unique. */
  index: number
  asOfMs: number
  names: NameCounter
  userPoolSize: number
  out: DemoRecords
}

/** One piece of hardware and who uses it; several record chains can describe it (re-imaging). */
interface Physical {
  kind: Kind
  model: Model
  os: OsInfo
  ownership: 'company' | 'personal'
  name: string
  user: User | null
  serial: string
  wifiMac: string
  storage: { total: number; free: number }
}

/** The ids one enrolment of a device gets in each system. */
interface ChainIds {
  entraObjectId: string
  entraDeviceId: string
  intuneId: string
  machineId: string
  autopilotId: string
  ztdId: string
}

function newIds(rng: Rng): ChainIds {
  return {
    entraObjectId: rng.guid(),
    entraDeviceId: rng.guid(),
    intuneId: rng.guid(),
    machineId: rng.hex(5),
    autopilotId: rng.guid(),
    ztdId: rng.guid(),
  }
}

/** A moment `days` ago (uniform within the range, whole seconds). */
function ago(ctx: BuildContext, [min, max]: Days): number {
  const spanSeconds = ((max - min) * DAY_MS) / SECOND_MS
  return ctx.asOfMs - min * DAY_MS - Math.floor(ctx.rng.float() * spanSeconds) * SECOND_MS
}

/**
 * Defender `lastSeen` of a device in use: usually the last day or so, but laptops left at home for a week or two
 * turn Inactive in Defender (7-day rule) while being perfectly healthy.
 */
function recentDefender(ctx: BuildContext): number {
  return ago(ctx, ctx.rng.chance(OFFLINE_A_WHILE_SHARE) ? OFFLINE_A_WHILE : RECENT_DEFENDER)
}

/** `ms` moved up to `days` further into the past, for sources that saw a stale device a little earlier. */
function earlier(ctx: BuildContext, ms: number, days: number): number {
  return ms - ctx.rng.int(0, days * (DAY_MS / HOUR_MS)) * HOUR_MS
}

/** `ms` moved forward by `[minMs, maxMs]` but never past as-of. */
function later(ctx: BuildContext, ms: number, minMs: number, maxMs: number): number {
  return Math.min(ctx.asOfMs, ms + ctx.rng.int(minMs / SECOND_MS, maxMs / SECOND_MS) * SECOND_MS)
}

function pickUser(ctx: BuildContext): User {
  return userNumber(ctx.rng.int(0, ctx.userPoolSize - 1), ctx.seed)
}

const PERSONAL_NAME: Partial<Record<Kind, (model: Model) => string>> = {
  mac: () => 'MacBook',
  iphone: () => 'iPhone',
  ipad: () => 'iPad',
  android: (m) =>
    m.manufacturer === 'samsung' ? 'Galaxy' : m.manufacturer === 'Google' ? 'Pixel' : 'moto g',
}

const NAME_PREFIX: Record<Kind, string> = {
  laptop: 'LT',
  desktop: 'DESK',
  whitebox: 'DESK',
  kiosk: 'KIOSK',
  mac: 'MAC',
  iphone: 'IPH',
  ipad: 'IPD',
  android: 'AND',
  rugged: 'SCAN',
  teams: 'MTR',
  windowsServer: 'SRV',
  linuxServer: 'LNX',
  printer: 'PRN',
}

const TEAMS_PREFIX: Record<NonNullable<Model['teamsType']>, string> = {
  ipPhone: 'PHONE',
  teamsRoom: 'MTR',
  collaborationBar: 'MTR',
  teamsPanel: 'PANEL',
}

/** Kinds whose hardware has no Wi-Fi adapter worth reporting. */
const WIRED_KINDS: ReadonlySet<Kind> = new Set([
  'desktop',
  'whitebox',
  'kiosk',
  'windowsServer',
  'linuxServer',
  'printer',
])

interface PhysicalOptions {
  ownership?: 'company' | 'personal'
  /** `null` for userless devices; a user is drawn from the pool when omitted. */
  user?: User | null
  namePrefix?: string
  serial?: string
  model?: Model
}

function physical(ctx: BuildContext, kind: Kind, opts: PhysicalOptions = {}): Physical {
  const { rng } = ctx
  const model = opts.model ?? rng.pick(MODELS[kind])
  const ownership = opts.ownership ?? 'company'
  const user = opts.user === undefined ? pickUser(ctx) : opts.user
  const personal = PERSONAL_NAME[kind]
  let name: string
  if (ownership === 'personal' && personal && user) name = `${personal(model)} of ${user.firstName}`
  else if (opts.namePrefix) name = ctx.names.take(opts.namePrefix)
  else if (model.teamsType) name = ctx.names.take(TEAMS_PREFIX[model.teamsType])
  else name = ctx.names.take(NAME_PREFIX[kind])
  return {
    kind,
    model,
    os: osFor(kind, rng),
    ownership,
    name,
    user,
    serial: opts.serial ?? serialFor(model.serialStyle, scramble(ctx.seed, ctx.index), rng),
    wifiMac: WIRED_KINDS.has(kind) ? '' : rng.upperHex(12),
    storage: storageFor(kind, rng),
  }
}

function isWindowsClient(p: Physical): boolean {
  return p.os.family === 'windows' && p.kind !== 'windowsServer'
}

function dnsName(p: Physical, fqdn: boolean): string {
  const host = p.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')
  return fqdn ? `${host}.${DNS_SUFFIX}` : host
}

// ---------------------------------------------------------------------------------------------------------
// Record builders: one per source, field order as in the sample scenario exports.

interface EntraOptions {
  objectId?: string
  lastSignIn: number | null
  registered: number
  enabled?: boolean
  trustType?: string | null
  profileType?: string
  /** Intune-managed: sets isManaged, isCompliant, mdmAppId, deviceOwnership and managementType. */
  managed?: boolean
  compliant?: boolean
  autopilot?: { ztdId: string; groupTag: string } | null
  /** Hybrid-joined objects are synced from on-premises AD; the value is the last sync. */
  onPremisesSync?: number | null
  osVersion?: string
}

function defaultTrustType(p: Physical): string | null {
  if (p.kind === 'printer') return null
  return isWindowsClient(p) && p.ownership === 'company' ? 'AzureAd' : 'Workplace'
}

function entraRecord(ctx: BuildContext, p: Physical, ids: ChainIds, o: EntraOptions): DemoEntraDevice {
  const managed = o.managed ?? true
  const physicalIds: string[] = []
  if (o.autopilot) {
    physicalIds.push(`[ZTDID]:${o.autopilot.ztdId}`)
    // Entra writes an empty "[OrderId]:" for some devices without a group tag, as in the sample scenarios.
    if (o.autopilot.groupTag !== '' || ctx.rng.chance(0.5))
      physicalIds.push(`[OrderId]:${o.autopilot.groupTag}`)
    physicalIds.push(`[GID]:g:${ctx.rng.int(1_000_000, 9_999_999)}${ctx.rng.int(100_000_000, 999_999_999)}`)
  }
  return {
    id: o.objectId ?? ids.entraObjectId,
    deviceId: ids.entraDeviceId,
    displayName: p.name,
    accountEnabled: o.enabled ?? true,
    approximateLastSignInDateTime: o.lastSignIn === null ? null : isoSeconds(o.lastSignIn),
    registrationDateTime: isoSeconds(o.registered),
    operatingSystem: p.os.entra,
    operatingSystemVersion: o.osVersion ?? p.os.version,
    trustType: o.trustType === undefined ? defaultTrustType(p) : o.trustType,
    profileType: o.profileType ?? 'RegisteredDevice',
    isManaged: managed,
    isCompliant: managed ? (o.compliant ?? true) : false,
    mdmAppId: managed ? INTUNE_MDM_APP_ID : null,
    deviceOwnership: managed ? (p.ownership === 'company' ? 'Company' : 'Personal') : null,
    enrollmentType: null,
    managementType: managed ? 'MDM' : null,
    onPremisesSyncEnabled: o.onPremisesSync ? true : null,
    onPremisesLastSyncDateTime: o.onPremisesSync ? isoSeconds(o.onPremisesSync) : null,
    physicalIds,
    systemLabels: [],
    extensionAttributes: {},
  }
}

interface IntuneOptions {
  lastSync: number | 'zero'
  enrolled: number
  azureADDeviceId?: string
  enrollmentType?: string
  managementAgent?: string
  compliance?: string
}

function defaultEnrollmentType(ctx: BuildContext, p: Physical, autopilot: boolean): string {
  const personal = p.ownership === 'personal'
  switch (p.kind) {
    case 'laptop':
    case 'desktop':
    case 'whitebox':
      if (personal) return 'windowsAutoEnrollment'
      return autopilot || ctx.rng.chance(0.7) ? 'windowsAzureADJoin' : 'windowsAutoEnrollment'
    case 'kiosk':
      return 'windowsBulkUserless'
    case 'mac':
    case 'iphone':
    case 'ipad':
      if (!personal) return 'appleBulkWithUser'
      return p.kind === 'mac' || ctx.rng.chance(0.6) ? 'userEnrollment' : 'appleUserEnrollment'
    case 'android':
      if (personal) return 'userEnrollment'
      return ctx.rng.chance(0.6) ? 'androidEnterpriseFullyManaged' : 'androidEnterpriseCorporateWorkProfile'
    case 'rugged':
      return 'androidEnterpriseDedicatedDevice'
    case 'teams':
      return 'androidAOSPUserOwnedDeviceEnrollment'
    default:
      return 'unknown'
  }
}

function defaultCompliance(ctx: BuildContext): string {
  return ctx.rng.weighted([
    ['compliant', 90],
    ['noncompliant', 8],
    ['inGracePeriod', 2],
  ] as const)
}

function intuneRecord(
  ctx: BuildContext,
  p: Physical,
  ids: ChainIds,
  o: IntuneOptions,
  autopilot: boolean,
): DemoManagedDevice {
  const enrollmentType = o.enrollmentType ?? defaultEnrollmentType(ctx, p, autopilot)
  return {
    id: ids.intuneId,
    deviceName: p.name,
    userPrincipalName: p.user?.upn ?? '',
    userDisplayName: p.user?.displayName ?? '',
    managedDeviceOwnerType: p.ownership,
    enrolledDateTime: isoSeconds(o.enrolled),
    lastSyncDateTime: o.lastSync === 'zero' ? ZERO_DATE : isoSeconds(o.lastSync),
    operatingSystem: p.os.intune,
    osVersion: p.os.version,
    complianceState: o.compliance ?? defaultCompliance(ctx),
    managementAgent: o.managementAgent ?? (p.kind === 'teams' ? 'intuneAosp' : 'mdm'),
    deviceEnrollmentType: enrollmentType,
    deviceRegistrationState: 'registered',
    azureADRegistered: true,
    azureADDeviceId: o.azureADDeviceId ?? ids.entraDeviceId,
    serialNumber: p.serial,
    manufacturer: p.model.manufacturer,
    model: p.model.model,
    isSupervised: enrollmentType.startsWith('appleBulk'),
    deviceCategoryDisplayName: 'Unknown Category',
    emailAddress: p.user?.upn ?? '',
    wiFiMacAddress: p.wifiMac,
    totalStorageSpaceInBytes: p.storage.total,
    freeStorageSpaceInBytes: p.storage.free,
  }
}

interface AutopilotOptions {
  enrolled: boolean
  lastContacted: number | 'zero'
  groupTag: string
  userPrincipalName: string
  managedDeviceId: string
}

function autopilotRecord(p: Physical, ids: ChainIds, o: AutopilotOptions): DemoAutopilotIdentity {
  return {
    id: ids.autopilotId,
    groupTag: o.groupTag,
    purchaseOrderIdentifier: '',
    serialNumber: p.serial,
    productKey: '',
    manufacturer: p.model.manufacturer,
    model: p.model.model,
    enrollmentState: o.enrolled ? 'enrolled' : 'notContacted',
    lastContactedDateTime: o.lastContacted === 'zero' ? ZERO_DATE : isoSeconds(o.lastContacted),
    addressableUserName: '',
    userPrincipalName: o.userPrincipalName,
    azureActiveDirectoryDeviceId: ids.entraDeviceId,
    managedDeviceId: o.managedDeviceId,
    displayName: '',
  }
}

interface DefenderOptions {
  firstSeen: number
  lastSeen: number
  /** Entra deviceId the sensor reports; null for servers and orphans. */
  aadDeviceId: string | null
  fqdn?: boolean
  managedBy?: string
  mergedIntoMachineId?: string | null
  isPotentialDuplication?: boolean
  machineId?: string
}

function defenderRecord(ctx: BuildContext, p: Physical, ids: ChainIds, o: DefenderOptions): DemoMachine {
  const { rng } = ctx
  const server = p.kind === 'windowsServer' || p.kind === 'linuxServer'
  const active = ctx.asOfMs - o.lastSeen < DEFENDER_ACTIVE_DAYS * DAY_MS
  return {
    id: o.machineId ?? ids.machineId,
    computerDnsName: dnsName(p, o.fqdn ?? (p.os.family === 'windows' && rng.chance(FQDN_SHARE))),
    firstSeen: isoSeconds(Math.min(o.firstSeen, o.lastSeen)),
    lastSeen: isoSeconds(o.lastSeen),
    osPlatform: p.os.defender.osPlatform,
    version: p.os.defender.version,
    osBuild: p.os.defender.osBuild,
    osProcessor: p.os.defender.osProcessor,
    agentVersion: p.os.defender.agentVersion,
    lastIpAddress: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
    lastExternalIpAddress: `203.0.113.${rng.int(1, 254)}`,
    healthStatus: active ? 'Active' : 'Inactive',
    onboardingStatus: 'Onboarded',
    rbacGroupId: server ? 1 : 0,
    rbacGroupName: server ? 'Servers' : null,
    riskScore: rng.weighted([
      ['None', 30],
      ['Low', 45],
      ['Medium', 20],
      ['High', 5],
    ] as const),
    exposureLevel: rng.weighted([
      ['Low', 40],
      ['Medium', 50],
      ['High', 10],
    ] as const),
    isAadJoined: o.aadDeviceId !== null && isWindowsClient(p),
    aadDeviceId: o.aadDeviceId,
    machineTags: server ? ['Servers'] : [],
    deviceValue: server && rng.chance(0.3) ? 'High' : 'Normal',
    managedBy: o.managedBy ?? (isWindowsClient(p) ? 'Intune' : 'Unknown'),
    isExcluded: false,
    mergedIntoMachineId: o.mergedIntoMachineId ?? null,
    isPotentialDuplication: o.isPotentialDuplication ?? false,
  }
}

// ---------------------------------------------------------------------------------------------------------
// A chain: the records of one enrolment of a device, in whichever sources know it.

interface ChainSpec {
  ids?: ChainIds
  /** Registration time; derived from the oldest activity when omitted. */
  since?: number
  entra?: Omit<EntraOptions, 'registered' | 'autopilot'> | null
  intune?: Omit<IntuneOptions, 'enrolled'> | null
  autopilot?: (Partial<Omit<AutopilotOptions, 'lastContacted'>> & { lastContacted: number | 'zero' }) | null
  defender?: (Omit<DefenderOptions, 'firstSeen' | 'aadDeviceId'> & { aadDeviceId?: string | null }) | null
}

function registeredBefore(ctx: BuildContext, times: readonly (number | null | 'zero' | undefined)[]): number {
  let oldest = ctx.asOfMs
  for (const t of times) if (typeof t === 'number' && t < oldest) oldest = t
  const [min, max] = DEPLOYED_BEFORE
  return oldest - ctx.rng.int(min, max) * DAY_MS - ctx.rng.int(0, DAY_MS / MINUTE_MS) * MINUTE_MS
}

function chain(ctx: BuildContext, p: Physical, spec: ChainSpec): ChainIds {
  const { rng, out } = ctx
  const ids = spec.ids ?? newIds(rng)
  const since =
    spec.since ??
    registeredBefore(ctx, [
      spec.entra?.lastSignIn,
      spec.intune?.lastSync,
      spec.autopilot?.lastContacted,
      spec.defender?.lastSeen,
    ])
  const groupTag = spec.autopilot ? (spec.autopilot.groupTag ?? rng.pick(GROUP_TAGS)) : ''
  if (spec.entra) {
    out.devices.push(
      entraRecord(ctx, p, ids, {
        ...spec.entra,
        registered: since,
        autopilot: spec.autopilot ? { ztdId: ids.ztdId, groupTag } : null,
      }),
    )
  }
  if (spec.intune) {
    const enrolled = later(ctx, since, MINUTE_MS, 2 * HOUR_MS)
    out.managedDevices.push(intuneRecord(ctx, p, ids, { ...spec.intune, enrolled }, Boolean(spec.autopilot)))
  }
  if (spec.autopilot) {
    out.windowsAutopilotDeviceIdentities.push(
      autopilotRecord(p, ids, {
        enrolled: spec.autopilot.enrolled ?? true,
        lastContacted: spec.autopilot.lastContacted,
        groupTag,
        userPrincipalName: spec.autopilot.userPrincipalName ?? (p.user && rng.chance(0.6) ? p.user.upn : ''),
        managedDeviceId: spec.autopilot.managedDeviceId ?? ids.intuneId,
      }),
    )
  }
  if (spec.defender) {
    out.machines.push(
      defenderRecord(ctx, p, ids, {
        ...spec.defender,
        firstSeen: later(ctx, since, HOUR_MS, 2 * DAY_MS),
        aadDeviceId: spec.defender.aadDeviceId === undefined ? ids.entraDeviceId : spec.defender.aadDeviceId,
      }),
    )
  }
  return ids
}

function covered(ctx: BuildContext, p: Physical): boolean {
  return ctx.rng.chance(DEFENDER_COVERAGE[p.kind] ?? 0)
}

/** Corporate Windows devices are Autopilot-registered at about this rate (the brief's ~55 %). */
function autopilotRegistered(ctx: BuildContext, p: Physical): boolean {
  return (
    isWindowsClient(p) &&
    p.ownership === 'company' &&
    p.kind !== 'whitebox' &&
    ctx.rng.chance(AUTOPILOT_SHARE)
  )
}

// ---------------------------------------------------------------------------------------------------------
// Situations.

type KindMix = readonly (readonly [Kind, number])[]

/** Kinds of the healthy majority, tuned so the whole tenant lands near Windows 60 / iOS 14 / Android 12 / macOS 10 / Linux 4 %. */
const HEALTHY_KINDS: KindMix = [
  ['laptop', 41],
  ['desktop', 10],
  ['iphone', 14],
  ['ipad', 3],
  ['android', 12],
  ['rugged', 1],
  ['mac', 12],
]
/** Probability that a device of this kind is personally owned (BYOD). */
const PERSONAL_SHARE: Partial<Record<Kind, number>> = {
  laptop: 0.04,
  mac: 0.25,
  iphone: 0.75,
  ipad: 0.4,
  android: 0.75,
}

function ownershipFor(ctx: BuildContext, kind: Kind): 'company' | 'personal' {
  return ctx.rng.chance(PERSONAL_SHARE[kind] ?? 0) ? 'personal' : 'company'
}

/** Situation 1: every source saw the device within the last ~20 days. */
function healthy(ctx: BuildContext): void {
  const kind = ctx.rng.weighted(HEALTHY_KINDS)
  const p = physical(ctx, kind, { ownership: ownershipFor(ctx, kind) })
  chain(ctx, p, {
    entra: { lastSignIn: ago(ctx, RECENT_ENTRA) },
    intune: { lastSync: ago(ctx, RECENT_INTUNE) },
    autopilot: autopilotRegistered(ctx, p) ? { lastContacted: ago(ctx, RECENT_AUTOPILOT) } : null,
    defender: covered(ctx, p) ? { lastSeen: recentDefender(ctx) } : null,
  })
}

/** Situation 2: every source last saw it 100–400 days ago. */
function staleEverywhere(ctx: BuildContext): void {
  const { rng } = ctx
  const variant = rng.weighted([
    ['windows', 50],
    ['mac', 8],
    ['androidFullyManaged', 10],
    ['androidDedicated', 8],
    ['iphonePersonal', 14],
    ['androidPersonal', 5],
    ['iphoneCorporate', 5],
  ] as const)
  let p: Physical
  let enrollmentType: string | undefined
  switch (variant) {
    case 'windows':
      p = physical(ctx, rng.chance(0.8) ? 'laptop' : 'desktop')
      break
    case 'mac':
      p = physical(ctx, 'mac')
      break
    case 'androidFullyManaged':
      p = physical(ctx, 'android')
      enrollmentType = 'androidEnterpriseFullyManaged'
      break
    case 'androidDedicated':
      // A dedicated device with a user signed in (e.g. a shift worker's scanner), so it is not "shared".
      p = physical(ctx, 'rugged')
      enrollmentType = 'androidEnterpriseDedicatedDevice'
      break
    case 'iphonePersonal':
      p = physical(ctx, 'iphone', { ownership: 'personal' })
      break
    case 'androidPersonal':
      p = physical(ctx, 'android', { ownership: 'personal' })
      break
    case 'iphoneCorporate':
      p = physical(ctx, 'iphone')
      break
  }
  const base = ago(ctx, STALE)
  chain(ctx, p, {
    entra: { lastSignIn: earlier(ctx, base, STALE_JITTER_DAYS), compliant: false },
    intune: { lastSync: earlier(ctx, base, STALE_JITTER_DAYS), enrollmentType, compliance: 'noncompliant' },
    autopilot: autopilotRegistered(ctx, p) ? { lastContacted: earlier(ctx, base, STALE_JITTER_DAYS) } : null,
    defender: covered(ctx, p) ? { lastSeen: earlier(ctx, base, STALE_JITTER_DAYS) } : null,
  })
}

const REMOVED_KINDS: KindMix = [
  ['laptop', 60],
  ['desktop', 15],
  ['iphone', 10],
  ['android', 8],
  ['mac', 7],
]

/** Situations 3 and 4: the Intune record is gone, Entra still says the device is Intune-managed. */
function removedFromIntune(ctx: BuildContext, stillActive: boolean): void {
  const p = physical(ctx, ctx.rng.weighted(REMOVED_KINDS))
  const signIn = ago(ctx, stillActive ? STILL_ACTIVE_SIGN_IN : REMOVED_SIGN_IN)
  const defenderShare = isWindowsClient(p) ? 0.6 : 0.3
  const lastSeen = stillActive ? recentDefender(ctx) : earlier(ctx, signIn, STALE_JITTER_DAYS)
  chain(ctx, p, {
    entra: { lastSignIn: signIn },
    defender: ctx.rng.chance(defenderShare) ? { lastSeen } : null,
  })
}

/** Situation 5: the same hardware re-imaged: an old stale chain and a new healthy one share the serial number. */
function reimagedDuplicate(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(ctx, rng.chance(0.75) ? 'laptop' : 'desktop')
  const oldLast = ago(ctx, REIMAGE_OLD)
  const reimagedAt = later(ctx, oldLast, DAY_MS, 10 * DAY_MS)
  const fresh = newIds(rng)
  const freshMachine = covered(ctx, p)
  const merged = freshMachine && rng.chance(0.5)
  chain(ctx, p, {
    entra: { lastSignIn: earlier(ctx, oldLast, STALE_JITTER_DAYS) },
    intune: { lastSync: oldLast, compliance: 'noncompliant' },
    defender: covered(ctx, p)
      ? {
          lastSeen: earlier(ctx, oldLast, STALE_JITTER_DAYS),
          mergedIntoMachineId: merged ? fresh.machineId : null,
          isPotentialDuplication: !merged,
        }
      : null,
  })
  chain(ctx, p, {
    ids: fresh,
    since: reimagedAt,
    entra: { lastSignIn: ago(ctx, RECENT_ENTRA) },
    intune: { lastSync: ago(ctx, RECENT_INTUNE) },
    defender: freshMachine ? { lastSeen: recentDefender(ctx) } : null,
  })
}

/** Situation 6: a machine only Defender knows, gone silent 100–300 days ago. */
function defenderOrphan(ctx: BuildContext): void {
  const variant = ctx.rng.weighted([
    ['windows', 80],
    ['mac', 10],
    ['linux', 10],
  ] as const)
  const p =
    variant === 'windows'
      ? physical(ctx, ctx.rng.chance(0.7) ? 'laptop' : 'desktop', { namePrefix: 'WS' })
      : physical(ctx, variant === 'mac' ? 'mac' : 'linuxServer', { user: null })
  chain(ctx, p, { defender: { lastSeen: ago(ctx, ORPHAN), aadDeviceId: null } })
}

/** Situation 7: an enrolled Autopilot identity whose Intune record is gone; its Entra object is stale. */
function autopilotLeftover(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(ctx, rng.chance(0.8) ? 'laptop' : 'desktop')
  const contacted = ago(ctx, AUTOPILOT_LEFTOVER)
  chain(ctx, p, {
    // A retire usually clears Entra's management flag; about half the leftovers still show it (then the
    // device also reads as "removed from Intune", which takes precedence with the same plan).
    entra: {
      lastSignIn: later(ctx, contacted, 0, 10 * DAY_MS),
      enabled: rng.chance(0.6),
      managed: rng.chance(0.5),
    },
    autopilot: {
      lastContacted: contacted,
      userPrincipalName: p.user && rng.chance(0.7) ? p.user.upn : '',
    },
    defender: rng.chance(0.4) ? { lastSeen: earlier(ctx, contacted, STALE_JITTER_DAYS) } : null,
  })
}

/** Situation 8: imported into Autopilot but never deployed: placeholder Entra object, zero GUID, no contact. */
function autopilotNotDeployed(ctx: BuildContext): void {
  const { rng } = ctx
  const assigned = rng.chance(0.3)
  const p = physical(ctx, 'laptop', assigned ? {} : { user: null })
  chain(ctx, p, {
    since: ago(ctx, NOT_DEPLOYED_IMPORTED),
    entra: { lastSignIn: null, managed: false, osVersion: '10.0.0.0' },
    autopilot: {
      enrolled: false,
      lastContacted: 'zero',
      managedDeviceId: ZERO_GUID,
      userPrincipalName: p.user?.upn ?? '',
    },
  })
}

/** Situation 9: Entra and Defender active this week, Intune silent for 100–200 days (a broken MDM agent). */
function intuneSilent(ctx: BuildContext): void {
  const p = physical(
    ctx,
    ctx.rng.weighted<Kind>([
      ['laptop', 70],
      ['desktop', 15],
      ['mac', 15],
    ]),
  )
  const lastSync = ago(ctx, SILENT)
  chain(ctx, p, {
    entra: { lastSignIn: ago(ctx, SAME_WEEK) },
    intune: { lastSync, compliance: 'noncompliant' },
    autopilot: autopilotRegistered(ctx, p) ? { lastContacted: lastSync } : null,
    defender: { lastSeen: ago(ctx, RECENT_DEFENDER) },
  })
}

/** Situation 10: Intune and Entra active, the Defender sensor silent for 100–200 days. */
function defenderSilent(ctx: BuildContext): void {
  const p = physical(ctx, ctx.rng.chance(0.8) ? 'laptop' : 'desktop')
  chain(ctx, p, {
    entra: { lastSignIn: ago(ctx, RECENT_ENTRA) },
    intune: { lastSync: ago(ctx, RECENT_INTUNE) },
    autopilot: autopilotRegistered(ctx, p) ? { lastContacted: ago(ctx, RECENT_AUTOPILOT) } : null,
    defender: { lastSeen: ago(ctx, SILENT) },
  })
}

/** Situation 11: hybrid-joined Windows (trustType ServerAd, synced from AD); most active, some stale, some not in Intune. */
function hybridJoined(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(ctx, rng.chance(0.65) ? 'desktop' : 'laptop')
  const stale = rng.chance(0.2)
  const managed = rng.chance(0.75)
  const coManaged = rng.chance(0.4)
  const base = stale ? ago(ctx, STALE) : 0
  const when = (recent: Days): number => (stale ? earlier(ctx, base, STALE_JITTER_DAYS) : ago(ctx, recent))
  chain(ctx, p, {
    entra: {
      lastSignIn: when(RECENT_ENTRA),
      trustType: 'ServerAd',
      managed,
      // The AD computer object keeps syncing even when the PC is gone: that is why Entra alone cannot retire it.
      onPremisesSync: ago(ctx, [0, 1]),
    },
    intune: managed
      ? {
          lastSync: when(RECENT_INTUNE),
          enrollmentType: coManaged ? 'windowsCoManagement' : 'windowsAutoEnrollment',
          managementAgent: coManaged ? 'configurationManagerClientMdm' : 'mdm',
        }
      : null,
    defender: covered(ctx, p)
      ? { lastSeen: when(RECENT_DEFENDER), fqdn: true, managedBy: coManaged ? 'ConfigMgr' : 'Intune' }
      : null,
  })
}

/** Situation 12: shared, userless devices (kiosk PCs, shared iPads, Android shared device mode); some stale. */
function sharedDevice(ctx: BuildContext): void {
  const { rng } = ctx
  const variant = rng.weighted([
    ['windowsKiosk', 40],
    ['sharedIpad', 30],
    ['androidShared', 30],
  ] as const)
  const stale = rng.chance(0.25)
  const base = stale ? ago(ctx, STALE) : 0
  const when = (recent: Days): number => (stale ? earlier(ctx, base, STALE_JITTER_DAYS) : ago(ctx, recent))
  const kind: Kind = variant === 'windowsKiosk' ? 'kiosk' : variant === 'sharedIpad' ? 'ipad' : 'rugged'
  const p = physical(ctx, kind, { user: null })
  chain(ctx, p, {
    entra: {
      lastSignIn: when(RECENT_ENTRA),
      profileType: variant === 'androidShared' ? 'Shared' : 'RegisteredDevice',
    },
    intune: {
      lastSync: when(RECENT_INTUNE),
      enrollmentType:
        variant === 'windowsKiosk'
          ? 'windowsBulkUserless'
          : variant === 'sharedIpad'
            ? 'appleBulkWithoutUser'
            : 'androidEnterpriseDedicatedDevice',
    },
    defender: covered(ctx, p) ? { lastSeen: when(RECENT_DEFENDER) } : null,
  })
}

/** Situation 13: Teams phones, rooms and panels on Android (AOSP), also in the Teams devices inventory. */
function teamsDevice(ctx: BuildContext): void {
  const { rng } = ctx
  const model = rng.pick(MODELS.teams)
  const personalPhone = model.teamsType === 'ipPhone' && rng.chance(0.6)
  const user = personalPhone ? pickUser(ctx) : roomAccount(rng)
  const p = physical(ctx, 'teams', { user, model })
  const stale = rng.chance(0.2)
  const base = stale ? ago(ctx, STALE) : 0
  const when = (recent: Days): number => (stale ? earlier(ctx, base, STALE_JITTER_DAYS) : ago(ctx, recent))
  const lastSync = when(RECENT_INTUNE)
  const lastSignIn = when(RECENT_ENTRA)
  // The Teams inventory entry appears when the device first signs in, together with its Entra and Intune records.
  const since = registeredBefore(ctx, [lastSync, lastSignIn])
  const ids = chain(ctx, p, { since, entra: { lastSignIn }, intune: { lastSync } })
  const created = later(ctx, since, MINUTE_MS, HOUR_MS)
  ctx.out.teamworkDevices.push(teamworkRecord(ctx, p, ids, { stale, created, lastModified: lastSync }))
}

function teamworkRecord(
  ctx: BuildContext,
  p: Physical,
  ids: ChainIds,
  o: { stale: boolean; created: number; lastModified: number },
): DemoTeamworkDevice {
  const { rng } = ctx
  const user = p.user ?? roomAccount(rng)
  return {
    id: rng.guid(),
    deviceType: p.model.teamsType ?? 'unknown',
    hardwareDetail: {
      serialNumber: p.serial,
      uniqueId: ids.entraDeviceId.replace(/-/g, '').slice(0, 16),
      macAddresses: [rng.upperHex(12)],
      manufacturer: p.model.manufacturer,
      model: p.model.model,
    },
    notes: null,
    companyAssetTag: rng.chance(0.5) ? `AT-${rng.int(10_000, 99_999)}` : null,
    healthStatus: o.stale
      ? 'offline'
      : rng.weighted([
          ['healthy', 85],
          ['nonUrgent', 10],
          ['critical', 5],
        ] as const),
    activityState: o.stale ? 'unknown' : rng.chance(0.2) ? 'busy' : 'idle',
    createdDateTime: isoSeconds(o.created),
    lastModifiedDateTime: isoSeconds(o.lastModified),
    currentUser: { id: user.id, displayName: user.displayName, userIdentityType: 'aadUser' },
  }
}

/** Situation 14: Universal Print printers: Entra objects with profileType "Printer" and nothing else. */
function systemDevice(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(ctx, 'printer', { user: null })
  const roll = rng.float()
  const lastSignIn = roll < 0.7 ? ago(ctx, RECENT_ENTRA) : roll < 0.9 ? ago(ctx, PRINTER_OLD) : null
  chain(ctx, p, { entra: { lastSignIn, profileType: 'Printer', managed: false } })
}

/** Situation 15: blank timestamps (null sign-in, 0001-01-01 sync) and no other source showing activity. */
function blankTimestamps(ctx: BuildContext): void {
  const p = physical(ctx, 'laptop')
  const withIntune = ctx.rng.chance(0.6)
  chain(ctx, p, {
    since: ago(ctx, [30, 400]),
    entra: { lastSignIn: null },
    intune: withIntune ? { lastSync: 'zero' } : null,
  })
}

/** Situation 16: the Entra object is already disabled and stale; Intune no longer has the device. */
function alreadyDisabled(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(
    ctx,
    rng.weighted<Kind>([
      ['laptop', 60],
      ['iphone', 15],
      ['android', 15],
      ['mac', 10],
    ]),
  )
  const signIn = ago(ctx, STALE)
  chain(ctx, p, {
    entra: { lastSignIn: signIn, enabled: false, managed: rng.chance(0.5) },
    defender:
      isWindowsClient(p) && rng.chance(0.3) ? { lastSeen: earlier(ctx, signIn, STALE_JITTER_DAYS) } : null,
  })
}

/** Situation 17: two Entra objects share one deviceId (a broken sync); one Intune record points at that id. */
function ambiguousEntra(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(ctx, rng.chance(0.6) ? 'desktop' : 'laptop')
  const ids = chain(ctx, p, {
    entra: { lastSignIn: ago(ctx, RECENT_ENTRA), trustType: 'ServerAd', onPremisesSync: ago(ctx, [0, 1]) },
    intune: { lastSync: ago(ctx, RECENT_INTUNE) },
    defender: covered(ctx, p) ? { lastSeen: recentDefender(ctx), fqdn: true } : null,
  })
  const secondSignIn = ago(ctx, [30, 200])
  ctx.out.devices.push(
    entraRecord(ctx, p, ids, {
      objectId: rng.guid(),
      lastSignIn: secondSignIn,
      registered: registeredBefore(ctx, [secondSignIn]),
      trustType: 'AzureAd',
    }),
  )
}

/** Situation 18: a stale Intune record whose azureADDeviceId points at an Entra object that was deleted. */
function danglingEntraReference(ctx: BuildContext): void {
  const { rng } = ctx
  const p = physical(
    ctx,
    rng.weighted<Kind>([
      ['laptop', 60],
      ['iphone', 20],
      ['android', 20],
    ]),
  )
  const lastSync = ago(ctx, [100, 300])
  chain(ctx, p, {
    entra: null,
    intune: { lastSync, compliance: 'noncompliant' },
    defender:
      isWindowsClient(p) && rng.chance(0.3) ? { lastSeen: earlier(ctx, lastSync, STALE_JITTER_DAYS) } : null,
  })
}

/** Situation 19: a healthy white-box PC whose firmware reports a placeholder serial number. */
function placeholderSerial(ctx: BuildContext): void {
  const p = physical(ctx, 'whitebox', { serial: ctx.rng.pick(PLACEHOLDER_SERIALS) })
  chain(ctx, p, {
    entra: { lastSignIn: ago(ctx, RECENT_ENTRA) },
    intune: { lastSync: ago(ctx, RECENT_INTUNE) },
    defender: covered(ctx, p) ? { lastSeen: recentDefender(ctx) } : null,
  })
}

/** Servers (Windows Server, Linux) onboarded to Defender only; most report daily. */
function defenderServer(ctx: BuildContext): void {
  const { rng } = ctx
  const windows = rng.chance(0.2)
  const p = physical(ctx, windows ? 'windowsServer' : 'linuxServer', { user: null })
  const lastSeen = ago(ctx, rng.chance(0.92) ? SERVER_ACTIVE : SERVER_INACTIVE)
  chain(ctx, p, {
    since: ago(ctx, [200, 1500]),
    defender: {
      lastSeen,
      aadDeviceId: null,
      fqdn: rng.chance(0.7),
      managedBy: windows && rng.chance(0.5) ? 'MDE' : 'Unknown',
    },
  })
}

/** Builds the records of one physical device in the given situation into `ctx.out`. */
export const SITUATION_BUILDERS: Record<DemoSituation, (ctx: BuildContext) => void> = {
  healthy,
  staleEverywhere,
  removedFromIntune: (ctx) => removedFromIntune(ctx, false),
  removedFromIntuneStillActive: (ctx) => removedFromIntune(ctx, true),
  reimagedDuplicate,
  defenderOrphan,
  autopilotLeftover,
  autopilotNotDeployed,
  intuneSilent,
  defenderSilent,
  hybridJoined,
  sharedDevice,
  teamsDevice,
  systemDevice,
  blankTimestamps,
  alreadyDisabled,
  ambiguousEntra,
  danglingEntraReference,
  placeholderSerial,
  defenderServer,
}
