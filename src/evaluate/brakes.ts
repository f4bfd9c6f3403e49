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

/**
 * What the brake weighs, counted one view at a time: the engine counts while it evaluates, in the one pass over
 * the views it makes (views are built on demand and not kept).
 */
export class CoverageCount {
  /** Views with an Entra object that claims Intune management (they imply an Intune record)… */
  private implied = 0
  /** …and of those, the views that have one. */
  private matched = 0
  /** Intune records that name an Entra device… */
  private named = 0
  /** …and of those, the records whose Entra device exists. */
  private found = 0

  add(v: DeviceView): void {
    if (v.entra.some(claimsIntuneManagement)) {
      this.implied++
      if (v.intune.length > 0) this.matched++
    }
    for (let i = 0; i < v.intune.length; i++) {
      const m = v.intune[i]!
      if (!m.azureADDeviceId) continue
      this.named++
      if (!v.dangling.some((d) => d.from.id === m.id && d.missingIn === 'entra')) this.found++
    }
  }

  /** Decides, per source, whether "no record here" can be trusted. Pure. */
  assess(data: TenantData, policy: Policy): SourceAssessment {
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
    const { implied, matched, named, found } = this

    if (states.intune.status === 'ok' && states.entra.status === 'ok') {
      // Entra objects that claim Intune management imply Intune records.
      if (implied >= minImpliedRecords && matched < implied * minMatchShare) {
        states.intune.trusted = false
        warnings.intune =
          `Intune returned ${data.intune.records.length} records, but only ${matched} of the ${implied} Entra devices that ` +
          `record Intune management (${percent(matched, implied)}) have one. The Intune export looks incomplete, so ` +
          '"removed from Intune" findings are reported as unknown. Check the export (permissions, paging, filters); if ' +
          'the numbers are real, lower brakes.minMatchShare in the policy.'
      }

      // Intune records name their Entra device; most of those must exist.
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
}

/** Decides, per source, whether "no record here" can be trusted. Pure. */
export function assessSources(
  data: TenantData,
  views: Iterable<DeviceView>,
  policy: Policy,
): SourceAssessment {
  const count = new CoverageCount()
  for (const v of views) count.add(v)
  return count.assess(data, policy)
}
