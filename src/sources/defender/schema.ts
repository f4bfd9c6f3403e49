/** @module Defender for Endpoint `machine`: only the fields offboard reads (reference §4.2, incl. undocumented ones). */
import { z } from 'zod'
import { flag, recordId, text, timestamp } from '../schema-helpers.js'

export const DefenderMachine = z.object({
  id: recordId,
  computerDnsName: text,
  firstSeen: timestamp,
  lastSeen: timestamp,
  osPlatform: text,
  osBuild: z
    .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
    .nullish()
    .transform((v) => v ?? null),
  version: text,
  healthStatus: text,
  onboardingStatus: text,
  // The documentation spells it `onboardingstatus`; real responses say `onboardingStatus` (reference §4.2).
  onboardingstatus: text,
  aadDeviceId: text,
  machineTags: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
  isExcluded: flag,
  mergedIntoMachineId: text,
  isPotentialDuplication: flag,
})
export type DefenderMachine = z.infer<typeof DefenderMachine>
