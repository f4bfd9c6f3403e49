/** @module The Teams devices inventory (beta `/teamwork/devices`): only used to recognise Teams phones by serial (decisions.md). */
import { z } from 'zod'
import { normalizeSerial } from '../../domain/ids.js'
import { recordId, text } from '../schema-helpers.js'

export const TEAMS_COLLECTION = 'teamworkDevices'
// Beta only: v1.0 has no Teams devices inventory (reference §1.5).
export const TEAMS_ENDPOINT = { api: 'graph-beta', path: '/teamwork/devices' } as const
export const TEAMS_READ_PERMISSION = 'TeamworkDevice.Read.All'

export const TeamworkDevice = z.object({
  id: recordId,
  deviceType: text,
  hardwareDetail: z
    .object({ serialNumber: text, manufacturer: text, model: text })
    .nullish()
    .transform((v) => v ?? null),
})
export type TeamworkDevice = z.infer<typeof TeamworkDevice>

/** Serial keys of Teams devices, for the `teamsPhone` skip. */
export function teamsSerialKeys(devices: Iterable<TeamworkDevice>): Set<string> {
  const keys = new Set<string>()
  for (const d of devices) {
    const key = normalizeSerial(d.hardwareDetail?.serialNumber)
    if (key) keys.add(key)
  }
  return keys
}
