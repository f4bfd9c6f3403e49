/** @module Step 4 of a plan: offboard the Defender sensor (API on supported Windows, local procedure elsewhere; reference §4.4). */
import type { DefenderRecord } from '../../domain/device.js'
import { flatten, quote } from '../../domain/text.js'
import { daysBetween } from '../../domain/time.js'
import { isOnboarded } from '../../evaluate/defender-onboarding.js'
import type { DraftAction, PlanOptions } from '../plan.js'

/** Platforms the offboard API supports (Windows 10 1703+, 11, Server 2019+). */
const API_SUPPORTED = /^(windows10|windows11|windowsserver(2019|2022|2025))$/i
/** Supported only with the unified agent, which the machine record does not reveal. */
const UNIFIED_AGENT_ONLY = /^windowsserver(2012r2|2016)$/i

export function defenderStep(m: DefenderRecord, opts: PlanOptions): DraftAction | null {
  const name = quote(m.computerDnsName ?? m.id)
  if (opts.category === 'duplicate') {
    if (m.isExcluded === true) return null
    // Offboarding a superseded machine id could reach the live sensor if both ids belong to it; excluding cannot.
    return {
      system: 'defender',
      operation: 'exclude',
      target: m.id,
      targetName: m.computerDnsName,
      automation: 'manual',
      instructions: `Defender portal › Assets › Devices › ${name} (id ${m.id}) › Exclude, justification "Duplicate device". There is no API for exclusion.`,
      prerequisites: [],
      warnings: [],
      request: null,
    }
  }
  if (!isOnboarded(m)) return null
  const warnings: string[] = []
  const silentDays = m.lastSeen === null ? null : daysBetween(m.lastSeen, opts.now)
  if (silentDays !== null && silentDays > 7) {
    warnings.push(
      `The machine last reported ${silentDays} days ago: the offboard action completes only if it comes online again. ` +
        'If it never does, exclude it as "Inactive device"; the entry leaves inventory after 180 days.',
    )
  }
  const platform = m.osPlatform ?? 'unknown'
  if (API_SUPPORTED.test(platform) || UNIFIED_AGENT_ONLY.test(platform)) {
    if (UNIFIED_AGENT_ONLY.test(platform))
      warnings.push(`${platform} supports API offboarding only with the unified agent.`)
    return {
      system: 'defender',
      operation: 'offboard',
      target: m.id,
      targetName: m.computerDnsName,
      automation: 'optIn',
      instructions:
        `Defender portal › Assets › Devices › ${name} › … › Offboard device, or the offboard API (100 calls per minute, ` +
        '1,500 per hour). Offboarding stops the sensor; it does not remove the onboarding registry entries.',
      prerequisites: [],
      warnings,
      request: {
        api: 'defender',
        method: 'POST',
        path: `/api/machines/${m.id}/offboard`,
        body: { Comment: commentFor(opts.category) },
      },
    }
  }
  const how =
    m.platform === 'macOS' || m.platform === 'linux'
      ? 'run the offboarding script for this platform from Defender portal › Settings › Endpoints › Offboarding on the device (or through your management tool)'
      : m.platform === 'iOS' || m.platform === 'android'
        ? 'uninstall the Microsoft Defender app from the device (or remove it through Intune app assignment)'
        : 'use the offboarding package for this operating system from Defender portal › Settings › Endpoints › Offboarding'
  return {
    system: 'defender',
    operation: 'offboard',
    target: m.id,
    targetName: m.computerDnsName,
    automation: 'manual',
    instructions: `The offboard API does not support ${quote(platform)}: ${how} for ${name}.`,
    prerequisites: [],
    warnings,
    request: null,
  }
}

/** The offboard call's comment per category: one string each, shared by every step that names it. */
const COMMENTS = new Map<string, string>()
function commentFor(category: string): string {
  let comment = COMMENTS.get(category)
  if (comment === undefined) {
    comment = flatten(`Offboarded by offboard: device retired (${category}).`)
    COMMENTS.set(category, comment)
  }
  return comment
}
