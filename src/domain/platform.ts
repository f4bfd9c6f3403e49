/** @module Maps each source's operating-system text onto one platform vocabulary. */
import type { Ownership, Platform } from './device.js'

/**
 * Intune `operatingSystem`, Entra `operatingSystem` and Defender `osPlatform` spell platforms differently
 * ("Windows", "Windows11", "WindowsServer2022", "iPadOS", "MacMDM", "AndroidForWork", "Ubuntu").
 */
export function platformFromOs(os: string | null | undefined): Platform {
  if (!os) return 'unknown'
  const t = os.toLowerCase()
  if (t.startsWith('windows') || t === 'win') return 'windows'
  if (t.startsWith('ios') || t.startsWith('ipados') || t === 'iphone' || t === 'ipad') return 'iOS'
  if (t.startsWith('mac') || t === 'osx' || t === 'os x') return 'macOS'
  if (t.startsWith('android')) return 'android'
  if (
    t.startsWith('linux') ||
    ['ubuntu', 'debian', 'redhat', 'rhel', 'centos', 'suse', 'sles', 'oracle'].some((d) => t.startsWith(d))
  )
    return 'linux'
  return 'other'
}

/** Intune `managedDeviceOwnerType` and Entra `deviceOwnership` ("Company", "personal"; casing unverified, reference §2.2). */
export function ownershipFrom(value: string | null | undefined): Ownership {
  const t = value?.toLowerCase()
  if (t === 'company') return 'company'
  if (t === 'personal') return 'personal'
  return 'unknown'
}
