/** @module Defender for Endpoint as a source: machines from the Defender API `/api/machines`. */
import type { DefenderRecord } from '../../domain/device.js'
import { blankToNull, normalizeGuid } from '../../domain/ids.js'
import { platformFromOs } from '../../domain/platform.js'
import { defineSource } from '../source.js'
import { DefenderMachine } from './schema.js'

export default defineSource({
  name: 'defender',
  title: 'Defender for Endpoint',
  collection: 'machines',
  endpoint: { api: 'defender', path: '/api/machines' },
  readPermission: 'Machine.Read.All',
  // $top caps at 10,000 (reference §4.3); the machines API documents no $select.
  pageSize: 10_000,
  selectExclude: false,
  schema: DefenderMachine,
  toRecord(raw): DefenderRecord {
    return {
      source: 'defender',
      id: raw.id.toLowerCase(),
      computerDnsName: blankToNull(raw.computerDnsName),
      firstSeen: raw.firstSeen,
      lastSeen: raw.lastSeen,
      platform: platformFromOs(raw.osPlatform),
      osPlatform: blankToNull(raw.osPlatform),
      osBuild: raw.osBuild,
      version: blankToNull(raw.version),
      healthStatus: blankToNull(raw.healthStatus),
      onboardingStatus: blankToNull(raw.onboardingStatus) ?? blankToNull(raw.onboardingstatus),
      aadDeviceId: normalizeGuid(raw.aadDeviceId),
      machineTags: raw.machineTags,
      isExcluded: raw.isExcluded,
      mergedIntoMachineId: blankToNull(raw.mergedIntoMachineId)?.toLowerCase() ?? null,
      isPotentialDuplication: raw.isPotentialDuplication,
    }
  },
})
