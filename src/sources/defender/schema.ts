/** @module Defender for Endpoint `machine`: only the fields offboard reads (reference §4.2, incl. undocumented ones). */
import { z } from 'zod'
import { flag, label, recordId, text, textList, timestamp, UNDECIDED, withReader } from '../schema-helpers.js'

const BUILD_DIGITS = /^\d+$/

/** The OS build: a number, or its digits as text (both are seen). */
const osBuild = withReader(
  z
    .union([z.number(), z.string().regex(BUILD_DIGITS).transform(Number)])
    .nullish()
    .transform((v) => v ?? null),
  (v) => {
    if (v == null) return null
    // zod's number: finite (JSON can spell an infinite one, 1e999).
    if (typeof v === 'number') return Number.isFinite(v) ? v : UNDECIDED
    return typeof v === 'string' && BUILD_DIGITS.test(v) ? Number(v) : UNDECIDED
  },
)

export const DefenderMachine = z.object({
  id: recordId,
  computerDnsName: text,
  firstSeen: timestamp,
  lastSeen: timestamp,
  osPlatform: label,
  osBuild,
  version: label,
  healthStatus: label,
  onboardingStatus: label,
  // The documentation spells it `onboardingstatus`; real responses say `onboardingStatus` (reference §4.2).
  onboardingstatus: label,
  aadDeviceId: text,
  machineTags: textList,
  isExcluded: flag,
  mergedIntoMachineId: text,
  isPotentialDuplication: flag,
})
export type DefenderMachine = z.infer<typeof DefenderMachine>
