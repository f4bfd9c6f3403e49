/** @module Plausible hardware, operating systems and people for the demo tenant, so exports look like a real fleet. */
import { type Rng, rngFor } from './prng.js'

/** Namespace of the per-user random streams, apart from the per-device ones. */
const USER_STREAM = 1

/** The hardware kinds the generator builds devices from; each decides names, models, serial format and OS. */
export type Kind =
  | 'laptop'
  | 'desktop'
  | 'whitebox'
  | 'kiosk'
  | 'mac'
  | 'iphone'
  | 'ipad'
  | 'android'
  | 'rugged'
  | 'teams'
  | 'windowsServer'
  | 'linuxServer'
  | 'printer'

export type OsFamily = 'windows' | 'macOS' | 'iOS' | 'iPadOS' | 'android' | 'linux' | 'printer'

/** How a manufacturer's serial numbers look; the unique part is always 7 base-36 or 10 decimal characters. */
type SerialStyle =
  | 'dell'
  | 'hp'
  | 'lenovo'
  | 'surface'
  | 'apple'
  | 'samsung'
  | 'google'
  | 'zebra'
  | 'teams'
  | 'generic'

export interface Model {
  manufacturer: string
  model: string
  serialStyle: SerialStyle
  /** Teams device category as beta `teamworkDevice.deviceType` spells it. */
  teamsType?: 'ipPhone' | 'teamsRoom' | 'teamsPanel' | 'collaborationBar'
}

const DELL = 'Dell Inc.'
const HP = 'HP'
const LENOVO = 'LENOVO'
const MICROSOFT = 'Microsoft Corporation'
const APPLE = 'Apple'

export const MODELS: Record<Kind, readonly Model[]> = {
  laptop: [
    { manufacturer: DELL, model: 'Latitude 5440', serialStyle: 'dell' },
    { manufacturer: DELL, model: 'Latitude 7440', serialStyle: 'dell' },
    { manufacturer: DELL, model: 'Precision 5680', serialStyle: 'dell' },
    { manufacturer: HP, model: 'HP EliteBook 840 14 inch G10 Notebook PC', serialStyle: 'hp' },
    { manufacturer: HP, model: 'HP ProBook 450 15.6 inch G10 Notebook PC', serialStyle: 'hp' },
    { manufacturer: LENOVO, model: 'ThinkPad T14 Gen 4', serialStyle: 'lenovo' },
    { manufacturer: LENOVO, model: 'ThinkPad X1 Carbon Gen 11', serialStyle: 'lenovo' },
    { manufacturer: MICROSOFT, model: 'Surface Laptop 6', serialStyle: 'surface' },
    { manufacturer: MICROSOFT, model: 'Surface Pro 10', serialStyle: 'surface' },
  ],
  desktop: [
    { manufacturer: DELL, model: 'OptiPlex 7010', serialStyle: 'dell' },
    { manufacturer: HP, model: 'HP EliteDesk 800 G9 Desktop Mini PC', serialStyle: 'hp' },
    { manufacturer: LENOVO, model: 'ThinkCentre M70q Gen 4', serialStyle: 'lenovo' },
  ],
  // Self-built or white-label PCs: firmware often carries placeholder serials (situation 19).
  whitebox: [
    { manufacturer: 'Micro-Star International Co., Ltd.', model: 'MS-7D25', serialStyle: 'generic' },
    { manufacturer: 'ASUS', model: 'System Product Name', serialStyle: 'generic' },
    { manufacturer: 'Gigabyte Technology Co., Ltd.', model: 'B660M DS3H DDR4', serialStyle: 'generic' },
    { manufacturer: 'To be filled by O.E.M.', model: 'To be filled by O.E.M.', serialStyle: 'generic' },
  ],
  kiosk: [
    { manufacturer: HP, model: 'HP EliteDesk 800 G9 Desktop Mini PC', serialStyle: 'hp' },
    { manufacturer: LENOVO, model: 'ThinkCentre M70q Gen 4', serialStyle: 'lenovo' },
  ],
  mac: [
    { manufacturer: APPLE, model: 'MacBook Pro (14-inch, Nov 2023)', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'MacBook Air (13-inch, M3, 2024)', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'iMac (24-inch, 2023)', serialStyle: 'apple' },
  ],
  iphone: [
    { manufacturer: APPLE, model: 'iPhone 13', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'iPhone 14', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'iPhone 15', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'iPhone 15 Pro', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'iPhone 16', serialStyle: 'apple' },
  ],
  ipad: [
    { manufacturer: APPLE, model: 'iPad (10th generation)', serialStyle: 'apple' },
    { manufacturer: APPLE, model: 'iPad Air (5th generation)', serialStyle: 'apple' },
  ],
  android: [
    { manufacturer: 'samsung', model: 'SM-S911B', serialStyle: 'samsung' },
    { manufacturer: 'samsung', model: 'SM-A546B', serialStyle: 'samsung' },
    { manufacturer: 'Google', model: 'Pixel 8', serialStyle: 'google' },
    { manufacturer: 'motorola', model: 'moto g54 5G', serialStyle: 'google' },
  ],
  rugged: [
    { manufacturer: 'Zebra Technologies', model: 'TC52', serialStyle: 'zebra' },
    { manufacturer: 'Zebra Technologies', model: 'TC58', serialStyle: 'zebra' },
    { manufacturer: 'Honeywell', model: 'CT40', serialStyle: 'zebra' },
  ],
  teams: [
    { manufacturer: 'Yealink', model: 'MP56', serialStyle: 'teams', teamsType: 'ipPhone' },
    { manufacturer: 'Yealink', model: 'MeetingBar A30', serialStyle: 'teams', teamsType: 'collaborationBar' },
    { manufacturer: 'Yealink', model: 'RoomPanel', serialStyle: 'teams', teamsType: 'teamsPanel' },
    { manufacturer: 'Poly', model: 'CCX 500', serialStyle: 'teams', teamsType: 'ipPhone' },
    { manufacturer: 'Poly', model: 'Studio X50', serialStyle: 'teams', teamsType: 'teamsRoom' },
    { manufacturer: 'AudioCodes', model: 'C450HD', serialStyle: 'teams', teamsType: 'ipPhone' },
    { manufacturer: 'Crestron', model: 'TSS-770', serialStyle: 'teams', teamsType: 'teamsPanel' },
    { manufacturer: 'Logitech', model: 'Tap Scheduler', serialStyle: 'teams', teamsType: 'teamsPanel' },
    { manufacturer: 'Logitech', model: 'RallyBar', serialStyle: 'teams', teamsType: 'teamsRoom' },
    { manufacturer: 'Neat', model: 'Neat Bar', serialStyle: 'teams', teamsType: 'teamsRoom' },
    { manufacturer: 'Neat', model: 'Neat Pad', serialStyle: 'teams', teamsType: 'teamsPanel' },
  ],
  windowsServer: [
    { manufacturer: MICROSOFT, model: 'Virtual Machine', serialStyle: 'generic' },
    { manufacturer: 'VMware, Inc.', model: 'VMware7,1', serialStyle: 'generic' },
  ],
  linuxServer: [
    { manufacturer: MICROSOFT, model: 'Virtual Machine', serialStyle: 'generic' },
    { manufacturer: 'VMware, Inc.', model: 'VMware7,1', serialStyle: 'generic' },
  ],
  printer: [
    { manufacturer: HP, model: 'HP Color LaserJet MFP M480', serialStyle: 'generic' },
    { manufacturer: 'Canon', model: 'imageRUNNER ADVANCE DX C3826i', serialStyle: 'generic' },
    { manufacturer: 'Lexmark', model: 'MX532adwe', serialStyle: 'generic' },
  ],
}

/** Firmware placeholders that many machines share (situation 19); see src/domain/ids.ts for how they are ignored. */
export const PLACEHOLDER_SERIALS = [
  'To be filled by O.E.M.',
  'Default string',
  '0',
  'System Serial Number',
] as const

const BASE36 = 36
const UNIQUE_BASE36_DIGITS = 7 // 36^7 > 2^32, so any uint32 fits
const UNIQUE_DECIMAL_DIGITS = 10 // 10^10 > 2^32

/** A serial number in the manufacturer's style whose core encodes `unique` (a bijection of the device index). */
export function serialFor(style: SerialStyle, unique: number, rng: Rng): string {
  const b36 = unique.toString(BASE36).toUpperCase().padStart(UNIQUE_BASE36_DIGITS, '0')
  const dec = String(unique).padStart(UNIQUE_DECIMAL_DIGITS, '0')
  const digit = (): string => String(rng.int(0, 9))
  switch (style) {
    case 'dell':
      return b36
    case 'hp':
      return `5CG${b36}`
    case 'lenovo':
      return `PF${b36}`
    case 'surface':
      return `0${dec}${digit()}`
    case 'apple':
      return `C02${b36}${rng.upperHex(2)}`
    case 'samsung':
      return `R5C${b36}${digit()}`
    case 'google':
      return `3${b36}${digit()}`
    case 'zebra':
      return `2${dec}`
    case 'teams':
      return `80${dec}${digit()}${digit()}`
    case 'generic':
      return `VM-${b36}`
  }
}

/** Operating-system facts as each source spells them. */
export interface OsInfo {
  family: OsFamily
  /** Intune `operatingSystem`. */
  intune: string
  /** Entra `operatingSystem`. */
  entra: string
  /** Intune `osVersion` and Entra `operatingSystemVersion`. */
  version: string
  /** Defender `osPlatform`, `version`, `osBuild`, `agentVersion`, `osProcessor`. */
  defender: {
    osPlatform: string
    version: string | null
    osBuild: number | null
    agentVersion: string
    osProcessor: string
  }
}

const WINDOWS_11_23H2 = { version: '10.0.22631.4460', release: '23H2', build: 22631 }
const WINDOWS_11_24H2 = { version: '10.0.26100.2314', release: '24H2', build: 26100 }
const WINDOWS_10_22H2 = { version: '10.0.19045.5131', release: '22H2', build: 19045 }
const DEFENDER_AGENT_MOBILE = '1.0.6514.0101'
const DEFENDER_AGENT_UNIX = '101.24092.0002'

function windowsClient(rng: Rng): OsInfo {
  const release = rng.weighted([
    [WINDOWS_11_23H2, 45],
    [WINDOWS_11_24H2, 35],
    [WINDOWS_10_22H2, 20],
  ] as const)
  const isTen = release === WINDOWS_10_22H2
  return {
    family: 'windows',
    intune: 'Windows',
    entra: 'Windows',
    version: release.version,
    defender: {
      osPlatform: isTen ? 'Windows10' : 'Windows11',
      version: release.release,
      osBuild: release.build,
      agentVersion: `10.8760.${release.build}.${rng.int(1000, 5000)}`,
      osProcessor: rng.chance(0.05) ? 'arm64' : 'x64',
    },
  }
}

/** OS details for a device of `kind`; Teams devices run Android (AOSP), servers only reach Defender. */
export function osFor(kind: Kind, rng: Rng): OsInfo {
  switch (kind) {
    case 'laptop':
    case 'desktop':
    case 'whitebox':
    case 'kiosk':
      return windowsClient(rng)
    case 'mac': {
      const version = rng.pick(['14.7.1', '15.1', '15.1.1'])
      return {
        family: 'macOS',
        intune: 'macOS',
        // Entra lists Intune-enrolled Macs as "MacMDM".
        entra: 'MacMDM',
        version,
        defender: {
          osPlatform: 'macOS',
          version: version.split('.').slice(0, 2).join('.'),
          osBuild: null,
          agentVersion: DEFENDER_AGENT_UNIX,
          osProcessor: 'arm64',
        },
      }
    }
    case 'iphone':
    case 'ipad': {
      const version = rng.pick(['17.7', '18.0.1', '18.1'])
      const name = kind === 'ipad' ? 'iPadOS' : 'iOS'
      return {
        family: kind === 'ipad' ? 'iPadOS' : 'iOS',
        intune: name,
        entra: name,
        version,
        defender: {
          osPlatform: 'iOS',
          version,
          osBuild: null,
          agentVersion: DEFENDER_AGENT_MOBILE,
          osProcessor: 'arm64',
        },
      }
    }
    case 'android':
    case 'rugged':
    case 'teams': {
      const version = kind === 'teams' ? rng.pick(['10', '12']) : rng.pick(['13', '14', '15'])
      return {
        family: 'android',
        intune: 'Android',
        entra: 'Android',
        version,
        defender: {
          osPlatform: 'Android',
          version,
          osBuild: null,
          agentVersion: DEFENDER_AGENT_MOBILE,
          osProcessor: 'arm64',
        },
      }
    }
    case 'windowsServer': {
      const is2022 = rng.chance(0.6)
      const build = is2022 ? 20348 : 17763
      return {
        family: 'windows',
        intune: 'Windows',
        entra: 'Windows',
        version: `10.0.${build}.${rng.int(2000, 2900)}`,
        defender: {
          osPlatform: is2022 ? 'WindowsServer2022' : 'WindowsServer2019',
          version: is2022 ? '21H2' : '1809',
          osBuild: build,
          agentVersion: `10.8760.${build}.${rng.int(1000, 5000)}`,
          osProcessor: 'x64',
        },
      }
    }
    case 'linuxServer': {
      const distro = rng.pick([
        { osPlatform: 'Ubuntu', version: '22.04' },
        { osPlatform: 'Ubuntu', version: '24.04' },
        { osPlatform: 'RedHatEnterpriseLinux', version: '9.4' },
        { osPlatform: 'Linux', version: '12' },
      ])
      return {
        family: 'linux',
        intune: 'Linux',
        entra: 'Linux',
        version: distro.version,
        defender: {
          osPlatform: distro.osPlatform,
          version: distro.version,
          osBuild: null,
          agentVersion: DEFENDER_AGENT_UNIX,
          osProcessor: 'x64',
        },
      }
    }
    case 'printer':
      return {
        family: 'printer',
        intune: 'Printer',
        // Universal Print registers printers as Entra device objects with profileType "Printer".
        entra: 'Printer',
        version: '',
        defender: { osPlatform: 'Unknown', version: null, osBuild: null, agentVersion: '', osProcessor: '' },
      }
  }
}

/** Storage size in bytes as Intune reports it, per kind. */
export function storageFor(kind: Kind, rng: Rng): { total: number; free: number } {
  const sizes: Record<Kind, readonly number[]> = {
    laptop: [256060514304, 512110190592, 1024209543168],
    desktop: [256060514304, 512110190592],
    whitebox: [512110190592, 1024209543168],
    kiosk: [128035676160, 256060514304],
    mac: [494384795648, 994662584320],
    iphone: [128000000000, 256000000000],
    ipad: [64000000000, 256000000000],
    android: [128000000000, 256000000000],
    rugged: [32000000000],
    teams: [16000000000, 32000000000],
    windowsServer: [136365211648],
    linuxServer: [68719476736],
    printer: [0],
  }
  const total = rng.pick(sizes[kind])
  const FREE_MIN = 0.1
  const FREE_MAX = 0.7
  const free = Math.round((total * (FREE_MIN + rng.float() * (FREE_MAX - FREE_MIN))) / 1_000_000) * 1_000_000
  return { total, free }
}

const FIRST_NAMES = [
  'Jane',
  'John',
  'Aisha',
  'Carlos',
  'Mei',
  'Lukas',
  'Priya',
  'Omar',
  'Sofia',
  'Noah',
  'Emma',
  'Liam',
  'Olivia',
  'Mateo',
  'Yuki',
  'Amara',
  'Elena',
  'David',
  'Fatima',
  'Henrik',
  'Ingrid',
  'Jonas',
  'Kenji',
  'Lea',
  'Marta',
  'Nadia',
  'Oscar',
  'Paula',
  'Quentin',
  'Rosa',
  'Samir',
  'Tara',
  'Umar',
  'Vera',
  'Wei',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Anna',
  'Ben',
  'Chloe',
  'Diego',
  'Eva',
  'Felix',
  'Greta',
  'Hugo',
  'Ida',
  'Jakob',
] as const
const LAST_NAMES = [
  'Doe',
  'Smith',
  'Khan',
  'Garcia',
  'Chen',
  'Müller',
  'Patel',
  'Haddad',
  'Rossi',
  'Brown',
  'Nguyen',
  'Kowalski',
  'Silva',
  'Tanaka',
  'Okafor',
  'Ivanova',
  'Cohen',
  'Hansen',
  'Larsen',
  'Dubois',
  'Schmidt',
  'Fischer',
  'Novak',
  'Berg',
  'Costa',
  'Moreau',
  'Jensen',
  'Lopez',
  'Wagner',
  'Becker',
  'Petrov',
  'Sato',
  'Kim',
  'Ali',
  'Ahmed',
  'Murphy',
  'Walsh',
  'Virtanen',
  'Nilsson',
  'Eriksson',
  'Horvath',
  'Papadopoulos',
  'Yilmaz',
  'Mensah',
  'Santos',
] as const

export const DOMAIN = 'contoso.example'
/** Hybrid-joined and some cloud devices report an FQDN to Defender. */
export const DNS_SUFFIX = 'corp.contoso.example'

export interface User {
  /** Entra user object id (for Teams `currentUser`). */
  id: string
  upn: string
  displayName: string
  firstName: string
}

/** ASCII local part for a UPN: "Müller" → "muller". */
function asciiLower(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
}

/**
 * The user numbered `n` in a tenant-wide pool; the same `n` always gives the same person, so one user can own
 * several devices. Names repeat with a numeric suffix once the first×last combinations run out.
 */
export function userNumber(n: number, seed: number): User {
  const first = FIRST_NAMES[n % FIRST_NAMES.length]!
  const rest = Math.floor(n / FIRST_NAMES.length)
  const last = LAST_NAMES[rest % LAST_NAMES.length]!
  const round = Math.floor(rest / LAST_NAMES.length)
  const suffix = round === 0 ? '' : String(round + 1)
  return {
    // The user id must not depend on the device that mentions the user: derive it from (seed, n) alone.
    id: rngFor(seed, n, USER_STREAM).guid(),
    upn: `${asciiLower(first)}.${asciiLower(last)}${suffix}@${DOMAIN}`,
    displayName: `${first} ${last}${suffix ? ` ${suffix}` : ''}`,
    firstName: first,
  }
}

/** Resource accounts that Teams Rooms and panels sign in with. */
export function roomAccount(rng: Rng): User {
  const building = rng.pick(['berlin', 'london', 'paris', 'madrid', 'oslo', 'tokyo'])
  const room = `${rng.int(1, 9)}.${String(rng.int(1, 40)).padStart(2, '0')}`
  return {
    id: rng.guid(),
    upn: `room-${building}-${room.replace('.', '')}@${DOMAIN}`,
    displayName: `Room ${building[0]!.toUpperCase()}${building.slice(1)} ${room}`,
    firstName: 'Room',
  }
}

export const GROUP_TAGS = ['', '', '', 'Finance', 'Sales', 'Engineering', 'HR', 'Kiosk'] as const
