/** @module Entra ID as a source: device objects from Graph `/devices`. */
import type { EntraRecord } from '../../domain/device.js'
import { blankToNull, normalizeGuid } from '../../domain/ids.js'
import { ownershipFrom, platformFromOs } from '../../domain/platform.js'
import { defineSource } from '../source.js'
import { EntraDevice } from './schema.js'

// physicalIds casing varies (ZTDID/ZTDId, OrderID/OrderId) — reference §2.3.
const ZTDID = /^\[ztdid\]:/i
const ORDER_ID = /^\[orderid\]:(.*)$/i

export default defineSource({
  name: 'entra',
  title: 'Entra ID',
  collection: 'devices',
  endpoint: { api: 'graph', path: '/devices' },
  readPermission: 'Device.Read.All',
  // Directory objects page at most 999 (reference §2.4).
  pageSize: 999,
  selectExclude: [],
  schema: EntraDevice,
  toRecord(raw): EntraRecord {
    let groupTag: string | null = null
    let autopilotRegistered = false
    for (const pid of raw.physicalIds) {
      if (ZTDID.test(pid)) autopilotRegistered = true
      const order = ORDER_ID.exec(pid)
      if (order) groupTag = blankToNull(order[1])
    }
    // Entra's deviceOwnership is set only by Intune; registered (Workplace) devices are BYOD by definition.
    const ownership = ownershipFrom(raw.deviceOwnership)
    return {
      source: 'entra',
      id: raw.id,
      deviceId: normalizeGuid(raw.deviceId),
      displayName: blankToNull(raw.displayName),
      accountEnabled: raw.accountEnabled,
      approximateLastSignInDateTime: raw.approximateLastSignInDateTime,
      registrationDateTime: raw.registrationDateTime,
      platform: platformFromOs(raw.operatingSystem),
      operatingSystem: blankToNull(raw.operatingSystem),
      operatingSystemVersion: blankToNull(raw.operatingSystemVersion),
      trustType: blankToNull(raw.trustType),
      profileType: blankToNull(raw.profileType),
      isManaged: raw.isManaged,
      mdmAppId: normalizeGuid(raw.mdmAppId),
      ownership: ownership === 'unknown' && raw.trustType === 'Workplace' ? 'personal' : ownership,
      enrollmentType: blankToNull(raw.enrollmentType),
      managementType: blankToNull(raw.managementType),
      autopilotRegistered,
      groupTag,
      onPremisesSyncEnabled: raw.onPremisesSyncEnabled,
      deviceCategory: blankToNull(raw.deviceCategory),
      manufacturer: blankToNull(raw.manufacturer),
      model: blankToNull(raw.model),
    }
  },
})
