/**
 * @module The coverage brake (decisions.md, "Brakes"): a source that returns far fewer records than its neighbours
 * imply — an empty or truncated export, a missing permission scope — cannot prove that a device is absent from it.
 */
import type { DeviceView, SourceName } from '../domain/device.js'
import type { Policy } from '../domain/policy.js'
import type { SourceStates } from '../rules/rule.js'
import type { SourceLoad, TenantData } from '../snapshot/read-snapshot.js'
import { claimsIntuneManagement } from './intune-management.js'

export interface SourceAssessment {
  states: SourceStates
  /** Loud, plain-language warnings per source. */
  warnings: Partial<Record<SourceName, string>>
}

/** Decides, per source, whether "no record here" can be trusted. Pure. */
export function assessSources(data: TenantData, views: DeviceView[], policy: Policy): SourceAssessment {
  const states = {} as SourceStates
  const warnings: Partial<Record<SourceName, string>> = {}
  const loads: Record<SourceName, SourceLoad<unknown>> = {
    intune: data.intune,
    entra: data.entra,
    autopilot: data.autopilot,
    defender: data.defender,
  }
  for (const name of Object.keys(loads) as SourceName[]) {
    states[name] = { status: loads[name].status, trusted: loads[name].status === 'ok' }
  }
  const { minImpliedRecords, minMatchShare } = policy.brakes
  const percent = (n: number, d: number) => `${Math.round((100 * n) / d)} %`

  if (states.intune.status === 'ok' && states.entra.status === 'ok') {
    // Entra objects that claim Intune management imply Intune records.
    let implied = 0
    let matched = 0
    for (const v of views) {
      if (!v.entra.some(claimsIntuneManagement)) continue
      implied++
      if (v.intune.length > 0) matched++
    }
    if (implied >= minImpliedRecords && matched < implied * minMatchShare) {
      states.intune.trusted = false
      warnings.intune =
        `Intune returned ${data.intune.records.length} records, but only ${matched} of the ${implied} Entra devices that ` +
        `record Intune management (${percent(matched, implied)}) have one. The Intune export looks incomplete, so ` +
        '"removed from Intune" findings are reported as unknown. Check the export (permissions, paging, filters); if ' +
        'the numbers are real, lower brakes.minMatchShare in the policy.'
    }

    // Intune records name their Entra device; most of those must exist.
    let named = 0
    let found = 0
    for (const v of views) {
      for (const m of v.intune) {
        if (!m.azureADDeviceId) continue
        named++
        if (!v.dangling.some((d) => d.from.id === m.id && d.missingIn === 'entra')) found++
      }
    }
    if (named >= minImpliedRecords && found < named * minMatchShare) {
      states.entra.trusted = false
      warnings.entra =
        `Entra returned ${data.entra.records.length} devices, but only ${found} of the ${named} Entra device ids that ` +
        `Intune records name (${percent(found, named)}) exist in it. The Entra export looks incomplete, so findings ` +
        'that rely on a device being absent from Entra are reported as unknown.'
    }
  }
  return { states, warnings }
}
