/** @module Out-of-scope devices (decisions.md, "Out of scope"): reported in `skipped` with the reason, never acted on. */
import type { DeviceView, EntraRecord, IntuneRecord } from '../domain/device.js'
import type { EnrollmentExclusion, ExcludeField, ExcludeRule, Policy } from '../domain/policy.js'
import type { SkipReason } from '../domain/report.js'
import { lowerCaseIn, lowerCaseIs } from '../domain/text.js'
import { DAY_MS, parseTimestamp } from '../domain/time.js'

export interface Skip {
  reason: SkipReason
  note: string
}

/** Intune enrollment types with no user by design (reference §1.5). */
const USERLESS_ENROLLMENT = [
  'windowsbulkuserless',
  'applebulkwithoutuser',
  'androidenterprisededicateddevice',
  'androidaospuserlessdeviceenrollment',
]

/** Makers of Teams phones, panels and Rooms on Android (decisions.md). */
const TEAMS_MAKERS = [
  'yealink',
  'poly',
  'polycom',
  'audiocodes',
  'crestron',
  'logitech',
  'neat',
  'lenovo',
  'cisco',
  'epos',
  'bose',
  'jabra',
]

/** Makers that build only Teams and unified-communications devices: an Android device of theirs is one. */
const TEAMS_ONLY_MAKERS = ['yealink', 'poly', 'polycom', 'audiocodes', 'crestron', 'neat']

/** Enrollment types that say nothing: v1.0 reports newer Android types as unknownFutureValue (reference §1.2). */
const UNSPECIFIC_ENROLLMENT = new Set(['', 'unknown', 'unknownfuturevalue'])

/** Entra profile types whose lifecycle is owned by another service (Universal Print, Azure VMs, IoT). */
const SYSTEM_PROFILES = ['printer', 'securevm', 'iot']

/**
 * The first reason a device is out of scope, in a fixed order so a device never gets two answers. `now` is the
 * run's as-of time (epoch ms), for the enrollment-date exclusions: pure, never the wall clock.
 */
export function scopeOf(view: DeviceView, policy: Policy, now: number): Skip | null {
  if (view.ambiguities.length > 0) {
    return {
      reason: 'ambiguousMatch',
      note: `Records compete for one link: ${view.ambiguities.join('; ')}. offboard acts on none of them until the conflict is resolved.`,
    }
  }
  if (view.entra.some(isServerAdJoined) || view.intune.some(isHybridJoined)) {
    return {
      reason: 'hybridJoined',
      note:
        'Hybrid Entra-joined: on-premises Active Directory is the source of truth. Disable or delete the computer object ' +
        'there and let Entra Connect sync the change; deleting it only in Entra re-creates it as "Pending".',
    }
  }
  if (isTeamsDevice(view)) {
    return {
      reason: 'teamsPhone',
      note:
        'Teams Android device (phone, panel or Rooms console): deleting its Intune record wipes it. Manage it from the ' +
        'Teams admin center.',
    }
  }
  const shared = sharedSignal(view)
  if (shared)
    return {
      reason: 'sharedDevice',
      note: `Shared device (${shared}): out of scope, like Microsoft's agent.`,
    }
  const system = view.entra.find(isSystemProfile)
  if (system) {
    return {
      reason: 'systemManaged',
      note: `Entra profileType "${system.profileType}": the owning service (Universal Print, Azure, IoT Hub) manages this object; clean it up there.`,
    }
  }
  for (const rule of policy.exclude) {
    const hit = matchExclude(view, rule)
    if (hit !== null) {
      const label = rule.label ? `"${rule.label}"` : `${rule.field} matches "${rule.pattern}"`
      return { reason: 'excludedByPolicy', note: `Excluded by policy: ${label} (${rule.field} is "${hit}").` }
    }
  }
  for (const rule of policy.excludeEnrolled) {
    const hit = recentEnrollment(view, rule, now)
    if (hit) {
      const label = rule.label
        ? `"${rule.label}"`
        : rule.withinDays !== undefined
          ? `enrolled or registered within ${rule.withinDays} days`
          : `enrolled or registered on or after ${rule.after}`
      const ago = Math.floor((now - hit.at) / DAY_MS)
      const when = ago >= 0 ? `${ago} day${ago === 1 ? '' : 's'} before` : `${-ago} days after`
      return {
        reason: 'excludedByPolicy',
        note: `Excluded by policy: ${label} (${hit.field} is ${new Date(hit.at).toISOString()}, ${when} the run's as-of time).`,
      }
    }
  }
  return null
}

/** The newest enrollment or registration date of the device's records, when it falls in the exclusion's window. */
function recentEnrollment(
  view: DeviceView,
  rule: EnrollmentExclusion,
  now: number,
): { field: string; at: number } | null {
  const dates = [
    ...view.intune.map((r) => ({ field: 'Intune enrolledDateTime', at: r.enrolledDateTime })),
    ...view.entra.map((r) => ({ field: 'Entra registrationDateTime', at: r.registrationDateTime })),
  ].filter((d): d is { field: string; at: number } => d.at !== null)
  const newest = dates.reduce<{ field: string; at: number } | null>(
    (best, d) => (best === null || d.at > best.at ? d : best),
    null,
  )
  if (!newest) return null
  // "In the last N days" ends at the as-of time; a date after it (a record newer than the snapshot) is recent too.
  if (rule.withinDays !== undefined) return newest.at > now - rule.withinDays * DAY_MS ? newest : null
  const after = parseTimestamp(rule.after)
  return after.ok && after.ms !== null && newest.at >= after.ms ? newest : null
}

function isTeamsDevice(view: DeviceView): boolean {
  if (view.teamsDevice) return true
  return view.intune.some(isTeamsAndroid)
}

function isTeamsAndroid(m: IntuneRecord): boolean {
  if (m.platform !== 'android') return false
  const maker = m.manufacturer?.toLowerCase() ?? ''
  const enrollment = m.deviceEnrollmentType?.toLowerCase() ?? ''
  const aosp = m.managementAgent?.toLowerCase() === 'intuneaosp' || enrollment.startsWith('androidaosp')
  if (aosp && TEAMS_MAKERS.some((t) => maker.startsWith(t))) return true
  // When v1.0 hides the enrollment type, a Teams-only maker decides: wiping a phone by mistake costs more than a skip.
  return UNSPECIFIC_ENROLLMENT.has(enrollment) && TEAMS_ONLY_MAKERS.some((t) => maker.startsWith(t))
}

function sharedSignal(view: DeviceView): string | null {
  const entra = view.entra.find(isSharedProfile)
  if (entra) return `Entra profileType "Shared" on "${entra.displayName ?? entra.id}"`
  const userless = view.intune.find(isUserless)
  if (userless) return `Intune enrollment type "${userless.deviceEnrollmentType}" with no primary user`
  return null
}

// Tests on one record, as named functions rather than arrows: scope is decided for every device, and a closure per
// test and device was most of what it allocated.
const isServerAdJoined = (e: EntraRecord) => lowerCaseIs(e.trustType, 'serverad')
const isHybridJoined = (m: IntuneRecord) => lowerCaseIs(m.joinType, 'hybridazureadjoined')
const isSystemProfile = (e: EntraRecord) => lowerCaseIn(e.profileType, SYSTEM_PROFILES)
const isSharedProfile = (e: EntraRecord) => lowerCaseIs(e.profileType, 'shared')
const isUserless = (m: IntuneRecord) =>
  lowerCaseIn(m.deviceEnrollmentType, USERLESS_ENROLLMENT) && !m.userPrincipalName

/** Values of a device for one exclusion field, across its records. */
export function fieldValues(view: DeviceView, field: ExcludeField): string[] {
  const values: (string | null)[] = []
  switch (field) {
    case 'name':
      values.push(
        ...view.intune.map((r) => r.deviceName),
        ...view.entra.map((r) => r.displayName),
        ...view.autopilot.map((r) => r.displayName),
        ...view.defender.map((r) => r.computerDnsName),
        ...view.defender.map((r) => r.computerDnsName?.split('.')[0] ?? null),
      )
      break
    case 'platform':
      values.push(...[...view.intune, ...view.entra, ...view.defender].map((r) => r.platform))
      if (view.autopilot.length) values.push('windows')
      break
    case 'ownership':
      values.push(...view.intune.map((r) => r.ownership), ...view.entra.map((r) => r.ownership))
      break
    case 'serialNumber':
      values.push(...view.intune.map((r) => r.serialNumber), ...view.autopilot.map((r) => r.serialNumber))
      break
    case 'groupTag':
      values.push(...view.autopilot.map((r) => r.groupTag), ...view.entra.map((r) => r.groupTag))
      break
    case 'deviceCategory':
      values.push(
        ...view.intune.map((r) => r.deviceCategoryDisplayName),
        ...view.entra.map((r) => r.deviceCategory),
      )
      break
    case 'defenderTag':
      values.push(...view.defender.flatMap((r) => r.machineTags))
      break
    case 'user':
      values.push(
        ...view.intune.map((r) => r.userPrincipalName),
        ...view.autopilot.map((r) => r.userPrincipalName),
      )
      break
  }
  return [...new Set(values.filter((v): v is string => v !== null && v !== ''))]
}

const globCache = new Map<string, RegExp>()

/** Case-insensitive glob (`*`, `?`); everything else is literal, so tenant data never becomes a pattern. */
export function globToRegExp(pattern: string): RegExp {
  let re = globCache.get(pattern)
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')
    re = new RegExp(`^${body}$`, 'i')
    globCache.set(pattern, re)
  }
  return re
}

function matchExclude(view: DeviceView, rule: ExcludeRule): string | null {
  const re = globToRegExp(rule.pattern)
  return fieldValues(view, rule.field).find((v) => re.test(v)) ?? null
}
