/**
 * @module Graph's evolvable enums: members added after `unknownFutureValue` reach a v1.0 client as
 * `unknownFutureValue` unless it sends `Prefer: include-unknown-enum-members` (reference §1.2; which value v1.0
 * returns for beta-only Android enrollment types is unverified, so the simulator takes the documented rule).
 */

/** v1.0 `deviceEnrollmentType` members (reference §1.2). */
const V1_ENROLLMENT_TYPES = new Set([
  'unknown',
  'userEnrollment',
  'deviceEnrollmentManager',
  'appleBulkWithUser',
  'appleBulkWithoutUser',
  'windowsAzureADJoin',
  'windowsBulkUserless',
  'windowsAutoEnrollment',
  'windowsBulkAzureDomainJoin',
  'windowsCoManagement',
  'windowsAzureADJoinUsingDeviceAuth',
  'appleUserEnrollment',
  'appleUserEnrollmentWithServiceAccount',
  'unknownFutureValue',
])

/** v1.0 `managementAgentType` members (reference §1.2). */
const V1_MANAGEMENT_AGENTS = new Set([
  'eas',
  'mdm',
  'easMdm',
  'intuneClient',
  'easIntuneClient',
  'configurationManagerClient',
  'configurationManagerClientMdm',
  'configurationManagerClientMdmEas',
  'unknown',
  'jamf',
  'googleCloudDevicePolicyController',
  'microsoft365ManagedMdm',
  'msSense',
])

/** Per field: the v1.0 members, and what a member v1.0 does not know becomes. */
const EVOLVABLE: Record<string, { members: Set<string>; fallback: string }> = {
  deviceEnrollmentType: { members: V1_ENROLLMENT_TYPES, fallback: 'unknownFutureValue' },
  // v1.0's managementAgentType has no unknownFutureValue member (beta added it with intuneAosp): "unknown" it is.
  managementAgent: { members: V1_MANAGEMENT_AGENTS, fallback: 'unknown' },
}

/** True when the client asked for members beyond `unknownFutureValue`. */
export function wantsUnknownEnumMembers(prefer: string | string[] | undefined): boolean {
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '')
  return /(^|[,;\s])include-unknown-enum-members\b/i.test(text)
}

/** A v1.0 managed device as a client without the Prefer header sees it. */
export function asV1ManagedDevice(rec: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined
  for (const [field, { members, fallback }] of Object.entries(EVOLVABLE)) {
    const value = rec[field]
    if (typeof value === 'string' && !members.has(value)) {
      out ??= { ...rec }
      out[field] = fallback
    }
  }
  return out ?? rec
}
