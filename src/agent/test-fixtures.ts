/** @module Small valid reports for the agent's tests: one suggestion per numbered device, ids derived from the number. */
import type { Platform } from '../domain/device.js'
import { type Category, Report, type ReportDevice, type Suggestion } from '../domain/report.js'

export function entraId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
}

export function fakeDevice(n: number, platform: Platform = 'windows'): ReportDevice {
  return {
    displayName: `PC-${n}`,
    platform,
    serialNumber: `SN${n}`,
    ownership: 'company',
    ids: {
      entraObjectId: entraId(n),
      entraDeviceId: null,
      intuneDeviceId: null,
      autopilotId: null,
      defenderMachineId: null,
    },
    records: [{ source: 'entra', id: entraId(n), name: `PC-${n}`, lastActivity: null }],
  }
}

export interface FakeSuggestion {
  device: number
  id?: string
  category?: Category
  platform?: Platform
}

export function fakeSuggestion(s: FakeSuggestion): Suggestion {
  return {
    id: s.id ?? `sg-${s.device.toString(16).padStart(16, '0')}`,
    category: s.category ?? 'stale',
    severity: 'medium',
    rationale: `PC-${s.device} has not signed in for 120 days (threshold 90).`,
    device: fakeDevice(s.device, s.platform),
    evidence: [
      { source: 'entra', recordId: entraId(s.device), field: 'approximateLastSignInDateTime', value: null },
    ],
    actions: [],
    findings: [],
  }
}

/** A report whose suggestions are the given devices (numbers or descriptions). */
export function fakeReport(tenantId: string | null, items: readonly (number | FakeSuggestion)[]): Report {
  const suggestions = items.map((i) => fakeSuggestion(typeof i === 'number' ? { device: i } : i))
  return Report.parse({
    schemaVersion: 1,
    generator: { name: 'offboard', version: '0.0.0-test' },
    asOf: '2026-01-01T00:00:00.000Z',
    tenantId,
    sources: {
      intune: { status: 'ok', records: 0 },
      entra: { status: 'ok', records: suggestions.length },
      autopilot: { status: 'ok', records: 0 },
      defender: { status: 'missing', records: 0 },
    },
    policy: { staleAfterDays: 90, excludeRules: 0 },
    summary: {
      text: `${suggestions.length} devices to offboard.`,
      factors: [],
      warnings: [],
      counts: {
        devices: suggestions.length,
        suggestions: suggestions.length,
        byCategory: {},
        skipped: 0,
        bySkipReason: {},
        undetermined: 0,
        actions: 0,
      },
    },
    suggestions,
    skipped: [],
    undetermined: [],
  })
}
