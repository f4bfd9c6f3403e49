/** @module Tests of the offboarding plan: the fixed order, one step per record not already done, and the safety rules of each step. */
import { describe, expect, it } from 'vitest'
import {
  type DeviceRecords,
  daysAgo,
  healthyRecords,
  IDS,
  NOW,
  onlyView,
  tenantFromDevice,
} from '../../test/fixtures/tenant.js'
import type { Action } from '../domain/action.js'
import { type AnyRecord, type DeviceView, recordsOf } from '../domain/device.js'
import { buildPlan, type PlanOptions } from './plan.js'

/** The healthy device, last seen by every source `days` ago. */
function staleRecords(days = 120): DeviceRecords {
  const d = healthyRecords()
  d.intune.lastSyncDateTime = daysAgo(days)
  d.entra.approximateLastSignInDateTime = daysAgo(days)
  d.autopilot.lastContactedDateTime = daysAgo(days)
  d.defender.lastSeen = daysAgo(days)
  return d
}

const viewOf = (d: Partial<DeviceRecords>): DeviceView => onlyView(tenantFromDevice(d))

function plan(
  view: DeviceView,
  over: Partial<PlanOptions> = {},
  targets: AnyRecord[] = recordsOf(view),
): Action[] {
  return buildPlan(view, new Set(targets), {
    now: NOW,
    category: 'stale',
    entraDeleteGraceDays: 30,
    staleAfterDays: 90,
    ...over,
  })
}

/** step, system, operation, target, automation: the part of a step that decides what happens. */
const shape = (actions: Action[]) =>
  actions.map((a) => [a.step, a.system, a.operation, a.target, a.automation])
const only = (actions: Action[], system: Action['system']): Action[] =>
  actions.filter((a) => a.system === system)

describe('buildPlan', () => {
  describe('order', () => {
    it('plans Intune, then Autopilot (unassign, delete), then Entra, then Defender, numbered 1..5', () => {
      expect(shape(plan(viewOf(staleRecords())))).toEqual([
        [1, 'intune', 'delete', IDS.intune, 'optIn'],
        [2, 'autopilot', 'unassignUser', IDS.autopilot, 'optIn'],
        [3, 'autopilot', 'delete', IDS.autopilot, 'optIn'],
        [4, 'entra', 'disable', IDS.entraObject, 'agent'],
        [5, 'defender', 'offboard', IDS.defender, 'optIn'],
      ])
    })

    it('renumbers from 1 when a step is left out', () => {
      const d = staleRecords()
      d.intune.managementState = 'retirePending'

      expect(plan(viewOf(d)).map((a) => [a.step, a.system, a.operation])).toEqual([
        [1, 'autopilot', 'unassignUser'],
        [2, 'autopilot', 'delete'],
        [3, 'entra', 'disable'],
        [4, 'defender', 'offboard'],
      ])
    })

    it('plans steps only for targeted records', () => {
      const view = viewOf(staleRecords())

      expect(shape(plan(view, {}, view.entra))).toEqual([[1, 'entra', 'disable', IDS.entraObject, 'agent']])
      expect(shape(plan(view, {}, [...view.defender, ...view.intune]))).toEqual([
        [1, 'intune', 'delete', IDS.intune, 'optIn'],
        [2, 'defender', 'offboard', IDS.defender, 'optIn'],
      ])
    })

    it('plans nothing when nothing is targeted', () => {
      expect(plan(viewOf(staleRecords()), {}, [])).toEqual([])
    })
  })

  describe('Intune', () => {
    it('deletes a corporate Windows device through Graph and warns about BitLocker', () => {
      const [step] = only(plan(viewOf(staleRecords())), 'intune')

      expect(step!.request).toEqual({
        api: 'graph',
        method: 'DELETE',
        path: `/deviceManagement/managedDevices/${IDS.intune}`,
      })
      expect(step!.instructions).toContain('"LT-0107" (serial "PF3KX9Q1")')
      expect(step!.warnings).toEqual([
        'Deleting or retiring an Entra-joined Windows device suspends BitLocker; back up its recovery key and LAPS password first.',
      ])
    })

    it.each(['windows', 'iOS', 'android', 'macOS'] as const)(
      'retires a personal %s device and never deletes or wipes it',
      (platform) => {
        const d = staleRecords()
        d.intune.ownership = 'personal'
        d.intune.platform = platform
        d.intune.deviceEnrollmentType =
          platform === 'android' ? 'androidEnterpriseFullyManaged' : 'userEnrollment'

        const steps = only(plan(viewOf({ intune: d.intune })), 'intune')

        expect(shape(steps)).toEqual([[1, 'intune', 'retire', IDS.intune, 'optIn']])
        expect(steps[0]!.request).toEqual({
          api: 'graph',
          method: 'POST',
          path: `/deviceManagement/managedDevices/${IDS.intune}/retire`,
        })
        expect(steps[0]!.instructions).toContain('leaves personal data alone')
      },
    )

    it.each([
      'androidEnterpriseFullyManaged',
      'androidEnterpriseDedicatedDevice',
      'androidEnterpriseCorporateWorkProfile',
      'androidAOSPUserOwnedDeviceEnrollment',
    ])('warns that deleting a corporate Android %s device is a WIPE', (enrollment) => {
      const d = staleRecords()
      d.intune.platform = 'android'
      d.intune.deviceEnrollmentType = enrollment

      const [step] = only(plan(viewOf({ intune: d.intune })), 'intune')

      expect(step!.operation).toBe('delete')
      expect(step!.warnings).toEqual([
        `Deleting this ${enrollment} device makes Intune send a WIPE, not a retire: the device is reset to factory settings.`,
      ])
    })

    it('warns about a possible wipe when a corporate Android device does not say its enrollment type', () => {
      const d = staleRecords()
      d.intune.platform = 'android'
      d.intune.deviceEnrollmentType = null

      const [step] = only(plan(viewOf({ intune: d.intune })), 'intune')

      expect(step!.warnings[0]).toContain('is WIPED when deleted from Intune')
    })

    it('does not warn about a wipe for a corporate Android work profile or an iOS device', () => {
      const android = staleRecords()
      android.intune.platform = 'android'
      android.intune.deviceEnrollmentType = 'androidEnterprisePersonalWorkProfile'
      const ios = staleRecords()
      ios.intune.platform = 'iOS'
      ios.intune.deviceEnrollmentType = 'appleUserEnrollment'

      expect(only(plan(viewOf({ intune: android.intune })), 'intune')[0]!.warnings).toEqual([])
      expect(only(plan(viewOf({ intune: ios.intune })), 'intune')[0]!.warnings).toEqual([])
    })

    it.each(['retirePending', 'wipePending', 'deletePending', 'retireIssued', 'wipeIssued'])(
      'plans no Intune step for a record already in %s',
      (state) => {
        const d = staleRecords()
        d.intune.managementState = state

        expect(only(plan(viewOf(d)), 'intune')).toEqual([])
      },
    )
  })

  describe('Autopilot', () => {
    it('unassigns the assigned user, then deletes the identity, both after the Intune step', () => {
      const [unassign, remove] = only(plan(viewOf(staleRecords())), 'autopilot')

      expect(unassign!.request).toEqual({
        api: 'graph',
        method: 'POST',
        path: `/deviceManagement/windowsAutopilotDeviceIdentities/${IDS.autopilot}/unassignUserFromDevice`,
      })
      expect(unassign!.instructions).toContain('Unassign user ("jane.doe@contoso.example")')
      expect(unassign!.prerequisites).toEqual([
        'The Intune record is deleted and no longer listed in Intune (the documented deregistration order).',
      ])
      expect(remove!.request).toEqual({
        api: 'graph',
        method: 'DELETE',
        path: `/deviceManagement/windowsAutopilotDeviceIdentities/${IDS.autopilot}`,
      })
      expect(remove!.prerequisites).toEqual([
        'The Intune record is deleted and no longer listed in Intune (the documented deregistration order).',
        'The user is unassigned (previous step).',
      ])
      expect(remove!.warnings[0]).toContain('Do not delete the Entra object by hand afterwards')
      expect(remove!.instructions).toContain('serial "PF3KX9Q1"')
    })

    it('only deletes when no user is assigned', () => {
      const d = staleRecords()
      d.autopilot.userPrincipalName = null

      const steps = only(plan(viewOf(d)), 'autopilot')

      expect(shape(steps)).toEqual([[2, 'autopilot', 'delete', IDS.autopilot, 'optIn']])
      expect(steps[0]!.prerequisites).toEqual([
        'The Intune record is deleted and no longer listed in Intune (the documented deregistration order).',
      ])
    })

    it('has no Intune prerequisite when the device has no Intune record', () => {
      const d = staleRecords()

      const steps = only(
        plan(viewOf({ entra: d.entra, autopilot: d.autopilot, defender: d.defender })),
        'autopilot',
      )

      expect(steps.map((a) => [a.step, a.operation])).toEqual([
        [1, 'unassignUser'],
        [2, 'delete'],
      ])
      expect(steps[0]!.prerequisites).toEqual([])
      expect(steps[1]!.prerequisites).toEqual(['The user is unassigned (previous step).'])
    })

    // decisions.md, "The plan" 2: delete the identity "only after step 1 is confirmed" (reference §6.3). An Intune
    // delete that is still pending is not confirmed: the record is still listed, so the Autopilot steps must wait for it.
    it('still waits for Intune when the Intune record exists but its removal is only pending', () => {
      const d = staleRecords()
      d.intune.managementState = 'deletePending'

      const remove = only(plan(viewOf(d)), 'autopilot').find((a) => a.operation === 'delete')

      expect(remove!.prerequisites.some((p) => p.includes('Intune record is deleted'))).toBe(true)
    })
  })

  describe('Entra', () => {
    it('disables an enabled object itself (agent) with a PATCH that sets accountEnabled false', () => {
      const [step] = only(plan(viewOf(staleRecords())), 'entra')

      expect(step).toMatchObject({
        operation: 'disable',
        automation: 'agent',
        request: {
          api: 'graph',
          method: 'PATCH',
          path: `/devices/${IDS.entraObject}`,
          body: { accountEnabled: false },
        },
        prerequisites: [],
        warnings: [],
      })
      expect(step!.instructions).toContain('Devices › All devices › "LT-0107" › Disable')
    })

    it('warns that app-only permissions cannot disable a non-Windows object', () => {
      const d = staleRecords()
      d.entra.platform = 'macOS'

      expect(only(plan(viewOf({ entra: d.entra })), 'entra')[0]!.warnings[0]).toContain(
        'App-only permissions cannot disable non-Windows device objects',
      )
    })

    it('never deletes an enabled object, however long it has been idle', () => {
      const d = staleRecords(2000)
      d.entra.autopilotRegistered = false

      const steps = only(plan(viewOf({ entra: d.entra }), { entraDeleteGraceDays: 0 }), 'entra')

      expect(steps.map((a) => a.operation)).toEqual(['disable'])
    })

    /** A disabled object that is not Autopilot-bound, idle for `days`. */
    function disabledEntra(days: number): DeviceView {
      const d = staleRecords(days)
      d.entra.accountEnabled = false
      d.entra.autopilotRegistered = false
      return viewOf({ entra: d.entra, defender: d.defender })
    }

    it('deletes an already disabled object once staleAfterDays + grace (90 + 30) have passed, with keys exported first', () => {
      const [step] = only(plan(disabledEntra(120)), 'entra')

      expect(step).toMatchObject({
        step: 1,
        operation: 'delete',
        automation: 'optIn',
        request: { api: 'graph', method: 'DELETE', path: `/devices/${IDS.entraObject}` },
        warnings: ['Deleting an Entra device object cannot be undone.'],
      })
      expect(step!.prerequisites[0]).toContain('disabled for at least 30 days')
      expect(step!.prerequisites[0]).toContain('last active 120 days ago')
      expect(step!.prerequisites[1]).toBe(
        'BitLocker recovery keys are exported: deleting the object deletes them.',
      )
    })

    it('plans nothing for a disabled object one day before the grace period ends', () => {
      expect(only(plan(disabledEntra(119)), 'entra')).toEqual([])
    })

    it('follows the grace period and window it is given', () => {
      expect(
        only(plan(disabledEntra(100), { entraDeleteGraceDays: 10 }), 'entra').map((a) => a.operation),
      ).toEqual(['delete'])
      expect(only(plan(disabledEntra(150), { staleAfterDays: 180 }), 'entra')).toEqual([])
    })

    it('measures idleness on every record of the device, not only the Entra one', () => {
      const d = staleRecords(400)
      d.entra.accountEnabled = false
      d.entra.autopilotRegistered = false
      d.defender.lastSeen = daysAgo(100)

      expect(only(plan(viewOf({ entra: d.entra, defender: d.defender })), 'entra')).toEqual([])
    })

    it('plans nothing for a disabled object whose activity is unknown', () => {
      const d = staleRecords()
      d.entra.accountEnabled = false
      d.entra.autopilotRegistered = false
      d.entra.approximateLastSignInDateTime = null

      expect(only(plan(viewOf({ entra: d.entra })), 'entra')).toEqual([])
    })

    it('never deletes an object registered for Autopilot (ZTDID), even without an Autopilot identity', () => {
      const d = staleRecords(2000)
      d.entra.accountEnabled = false
      d.entra.autopilotRegistered = true

      expect(only(plan(viewOf({ entra: d.entra }), { entraDeleteGraceDays: 0 }), 'entra')).toEqual([])
    })

    it('never deletes an object whose device has an Autopilot identity, even without a ZTDID', () => {
      const d = staleRecords(2000)
      d.entra.accountEnabled = false
      d.entra.autopilotRegistered = false

      const view = viewOf({ entra: d.entra, autopilot: d.autopilot })

      expect(only(plan(view, { entraDeleteGraceDays: 0 }), 'entra')).toEqual([])
      expect(only(plan(view, { entraDeleteGraceDays: 0 }, view.entra), 'entra')).toEqual([])
    })
  })

  describe('Defender', () => {
    it('offboards Windows 11 through the API with the required Comment body', () => {
      const [step] = only(plan(viewOf(staleRecords()), { category: 'removedFromIntune' }), 'defender')

      expect(step).toMatchObject({
        operation: 'offboard',
        automation: 'optIn',
        request: {
          api: 'defender',
          method: 'POST',
          path: `/api/machines/${IDS.defender}/offboard`,
          body: { Comment: 'Offboarded by offboard: device retired (removedFromIntune).' },
        },
      })
    })

    it.each(['Windows10', 'WindowsServer2019', 'WindowsServer2022', 'WindowsServer2025'])(
      'offboards %s through the API',
      (os) => {
        const d = staleRecords()
        d.defender.osPlatform = os

        const [step] = only(plan(viewOf({ defender: d.defender })), 'defender')

        expect(step!.automation).toBe('optIn')
        expect(step!.request?.method).toBe('POST')
        expect(step!.request?.body).toHaveProperty('Comment')
      },
    )

    it('warns that Windows Server 2016 needs the unified agent for API offboarding', () => {
      const d = staleRecords()
      d.defender.osPlatform = 'WindowsServer2016'

      const [step] = only(plan(viewOf({ defender: d.defender })), 'defender')

      expect(step!.automation).toBe('optIn')
      expect(step!.warnings).toContain(
        'WindowsServer2016 supports API offboarding only with the unified agent.',
      )
    })

    it.each([
      ['macOS', 'macOS', 'run the offboarding script'],
      ['linux', 'Linux', 'run the offboarding script'],
      ['iOS', 'iOS', 'uninstall the Microsoft Defender app'],
      ['android', 'Android', 'uninstall the Microsoft Defender app'],
    ] as const)('gives %s the manual procedure and no API request', (platform, os, how) => {
      const d = staleRecords()
      d.defender.platform = platform
      d.defender.osPlatform = os

      const [step] = only(plan(viewOf({ defender: d.defender })), 'defender')

      expect(step).toMatchObject({ operation: 'offboard', automation: 'manual', request: null })
      expect(step!.instructions).toContain(`The offboard API does not support "${os}": ${how}`)
      expect(step!.instructions).toContain('"lt-0107"')
    })

    it.each(['Offboarded', 'CanBeOnboarded', 'Unsupported', 'InsufficientInfo'])(
      'plans nothing for a machine that is %s',
      (status) => {
        const d = staleRecords()
        d.defender.onboardingStatus = status

        expect(only(plan(viewOf(d)), 'defender')).toEqual([])
      },
    )

    it('warns that a machine silent for more than 7 days completes the offboard only when it comes online', () => {
      const [step] = only(plan(viewOf(staleRecords())), 'defender')

      expect(step!.warnings[0]).toContain('The machine last reported 120 days ago')
      expect(step!.warnings[0]).toContain('exclude it as "Inactive device"')
    })

    it('does not warn about a machine that reported within a week', () => {
      const d = staleRecords()
      d.defender.lastSeen = daysAgo(7)

      expect(only(plan(viewOf({ defender: d.defender })), 'defender')[0]!.warnings).toEqual([])
    })

    it('excludes a superseded duplicate by hand instead of offboarding it', () => {
      const [step] = only(plan(viewOf(staleRecords()), { category: 'duplicate' }), 'defender')

      expect(step).toMatchObject({
        operation: 'exclude',
        automation: 'manual',
        request: null,
        target: IDS.defender,
      })
      expect(step!.instructions).toContain('justification "Duplicate device"')
      expect(step!.instructions).toContain('There is no API for exclusion.')
    })

    it('plans nothing for a duplicate that is already excluded', () => {
      const d = staleRecords()
      d.defender.isExcluded = true

      expect(only(plan(viewOf(d), { category: 'duplicate' }), 'defender')).toEqual([])
    })
  })
})
