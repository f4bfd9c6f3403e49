/** @module The `device` block of a report entry: name, platform, ownership, one id per source, and every record. */
import type { AnyRecord, DeviceView } from '../domain/device.js'
import { recordsOf } from '../domain/device.js'
import type { ReportDevice } from '../domain/report.js'
import { isoOrNull } from '../domain/time.js'
import { observe } from '../evaluate/activity.js'

function lastActivity(r: AnyRecord): number | null {
  return observe(r)?.ms ?? null
}

/** The most recently active record of a list (ties and unknowns fall back to id order, so the choice is stable). */
function primary<T extends AnyRecord>(records: T[]): T | undefined {
  let best: T | undefined
  let bestMs = Number.NEGATIVE_INFINITY
  for (const r of records) {
    const ms = lastActivity(r) ?? Number.NEGATIVE_INFINITY
    if (best === undefined || ms > bestMs) {
      best = r
      bestMs = ms
    }
  }
  return best
}

function nameOf(r: AnyRecord): string | null {
  switch (r.source) {
    case 'intune':
      return r.deviceName
    case 'entra':
      return r.displayName
    case 'autopilot':
      return r.displayName ?? r.serialNumber
    case 'defender':
      return r.computerDnsName
  }
}

export function summarizeDevice(view: DeviceView): ReportDevice {
  const intune = primary(view.intune)
  const entra = primary(view.entra)
  const autopilot = primary(view.autopilot)
  const defender = primary(view.defender)
  const displayName =
    intune?.deviceName ??
    entra?.displayName ??
    autopilot?.displayName ??
    defender?.computerDnsName ??
    autopilot?.serialNumber ??
    null
  const platforms = [intune?.platform, entra?.platform, defender?.platform].filter(
    (p) => p && p !== 'unknown',
  )
  const platform = platforms[0] ?? (autopilot ? 'windows' : 'unknown')
  const ownership =
    intune && intune.ownership !== 'unknown' ? intune.ownership : (entra?.ownership ?? 'unknown')
  return {
    displayName,
    platform,
    serialNumber: intune?.serialNumber ?? autopilot?.serialNumber ?? null,
    ownership,
    ids: {
      entraObjectId: entra?.id ?? null,
      entraDeviceId: entra?.deviceId ?? intune?.azureADDeviceId ?? defender?.aadDeviceId ?? null,
      intuneDeviceId: intune?.id ?? null,
      autopilotId: autopilot?.id ?? null,
      defenderMachineId: defender?.id ?? null,
    },
    records: recordsOf(view).map((r) => ({
      source: r.source,
      id: r.id,
      name: nameOf(r),
      lastActivity: isoOrNull(lastActivity(r)),
    })),
  }
}
