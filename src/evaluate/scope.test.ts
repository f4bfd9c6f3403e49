/** @module Tests of the out-of-scope classes: each built from the healthy device with one field changed. */
import { describe, expect, it } from 'vitest'
import {
  daysAgo,
  healthyRecords,
  IDS,
  NOW,
  onlyView,
  tenantFromDevice,
  tenantOf,
} from '../../test/fixtures/tenant.js'
import { correlate } from '../correlate/correlate.js'
import type { DeviceView } from '../domain/device.js'
import { DEFAULT_POLICY, Policy } from '../domain/policy.js'
import { fieldValues, globToRegExp, scopeOf } from './scope.js'

const healthyView = (): DeviceView => onlyView(tenantFromDevice(healthyRecords()))

describe('scopeOf', () => {
  it('keeps the healthy device in scope', () => {
    expect(scopeOf(healthyView(), DEFAULT_POLICY, NOW)).toBeNull()
  })

  describe('ambiguousMatch', () => {
    it('skips a device whose Entra device id matches two Entra objects, naming the competing records', () => {
      const d = healthyRecords()
      const twin = { ...d.entra, id: 'f1f1f1f1-0000-4000-8000-000000000001', displayName: 'LT-0107-twin' }
      const { views } = correlate(
        tenantOf({
          intune: [d.intune],
          entra: [d.entra, twin],
          autopilot: [d.autopilot],
          defender: [d.defender],
        }),
      )
      expect(views).toHaveLength(1)

      const skip = scopeOf(views[0]!, DEFAULT_POLICY, NOW)

      expect(skip?.reason).toBe('ambiguousMatch')
      expect(skip?.note).toContain(`matches 2 entra records ("${IDS.entraObject}", "${twin.id}")`)
      expect(skip?.note).toContain('offboard acts on none of them until the conflict is resolved.')
    })

    it('takes precedence over every other reason', () => {
      const d = healthyRecords()
      d.entra.trustType = 'ServerAd'
      const twin = { ...d.entra, id: 'f1f1f1f1-0000-4000-8000-000000000001' }
      const { views } = correlate(tenantOf({ intune: [d.intune], entra: [d.entra, twin] }))

      expect(scopeOf(views[0]!, DEFAULT_POLICY, NOW)?.reason).toBe('ambiguousMatch')
    })
  })

  describe('hybridJoined', () => {
    it('skips an Entra object with trustType "ServerAd" and says the action belongs in on-premises AD', () => {
      const d = healthyRecords()
      d.entra.trustType = 'ServerAd'

      const skip = scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)

      expect(skip?.reason).toBe('hybridJoined')
      expect(skip?.note).toContain('on-premises Active Directory is the source of truth')
      expect(skip?.note).toContain('Disable or delete the computer object there')
    })

    it('reads trustType case-insensitively', () => {
      const d = healthyRecords()
      d.entra.trustType = 'serverad'

      expect(scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)?.reason).toBe('hybridJoined')
    })

    it('skips an Intune record whose beta joinType is "hybridAzureADJoined", even when Entra says AzureAd', () => {
      const d = healthyRecords()
      d.intune.joinType = 'hybridAzureADJoined'

      expect(scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)?.reason).toBe('hybridJoined')
    })

    it('keeps an Entra-joined (AzureAd) or registered (Workplace) device in scope', () => {
      const d = healthyRecords()
      d.entra.trustType = 'Workplace'

      expect(scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)).toBeNull()
    })

    it('wins over the shared-device reason', () => {
      const d = healthyRecords()
      d.entra.trustType = 'ServerAd'
      d.entra.profileType = 'Shared'

      expect(scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)?.reason).toBe('hybridJoined')
    })
  })

  describe('teamsPhone', () => {
    /** The healthy device turned into an Android AOSP device from `maker`. */
    function androidFrom(maker: string, agent: string | null, enrollment: string | null) {
      const d = healthyRecords()
      d.intune.platform = 'android'
      d.intune.operatingSystem = 'Android'
      d.intune.manufacturer = maker
      d.intune.managementAgent = agent
      d.intune.deviceEnrollmentType = enrollment
      return onlyView(tenantFromDevice({ intune: d.intune, entra: d.entra }))
    }

    it('skips a device whose serial is in the Teams devices inventory, warning that deleting it wipes it', () => {
      const skip = scopeOf(
        onlyView(tenantFromDevice(healthyRecords(), { teamsSerials: new Set([IDS.serial]) })),
        DEFAULT_POLICY,
        NOW,
      )

      expect(skip?.reason).toBe('teamsPhone')
      expect(skip?.note).toContain('deleting its Intune record wipes it')
      expect(skip?.note).toContain('Teams admin center')
    })

    it('keeps the device in scope when the Teams inventory does not list its serial', () => {
      const view = onlyView(tenantFromDevice(healthyRecords(), { teamsSerials: new Set(['OTHER-SERIAL']) }))

      expect(scopeOf(view, DEFAULT_POLICY, NOW)).toBeNull()
    })

    it('skips an Android device managed by the AOSP agent from a Teams maker (Yealink)', () => {
      expect(scopeOf(androidFrom('Yealink', 'intuneAosp', null), DEFAULT_POLICY, NOW)?.reason).toBe(
        'teamsPhone',
      )
    })

    it('skips an Android device with an AOSP enrollment type from a Teams maker (Poly)', () => {
      const view = androidFrom('Poly', 'mdm', 'androidAOSPUserOwnedDeviceEnrollment')

      expect(scopeOf(view, DEFAULT_POLICY, NOW)?.reason).toBe('teamsPhone')
    })

    it('keeps an AOSP device from a maker that makes no Teams devices in scope', () => {
      expect(scopeOf(androidFrom('Samsung', 'intuneAosp', null), DEFAULT_POLICY, NOW)).toBeNull()
    })

    it("keeps a Teams maker's Android device that is not AOSP-managed in scope", () => {
      expect(
        scopeOf(androidFrom('Yealink', 'mdm', 'androidEnterpriseFullyManaged'), DEFAULT_POLICY, NOW),
      ).toBeNull()
    })
  })

  describe('sharedDevice', () => {
    it('skips an Entra object with profileType "Shared", quoting its name', () => {
      const d = healthyRecords()
      d.entra.profileType = 'Shared'

      const skip = scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)

      expect(skip).toEqual({
        reason: 'sharedDevice',
        note: 'Shared device (Entra profileType "Shared" on "LT-0107"): out of scope, like Microsoft\'s agent.',
      })
    })

    it.each([
      'windowsBulkUserless',
      'appleBulkWithoutUser',
      'androidEnterpriseDedicatedDevice',
      'androidAOSPUserlessDeviceEnrollment',
    ])('skips a userless %s enrollment with no primary user', (enrollment) => {
      const d = healthyRecords()
      d.intune.deviceEnrollmentType = enrollment
      d.intune.userPrincipalName = null

      const skip = scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)

      expect(skip?.reason).toBe('sharedDevice')
      expect(skip?.note).toContain(`Intune enrollment type "${enrollment}" with no primary user`)
    })

    it('keeps a userless enrollment type in scope when a primary user is assigned', () => {
      const d = healthyRecords()
      d.intune.deviceEnrollmentType = 'windowsBulkUserless'

      expect(scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)).toBeNull()
    })

    it('keeps a user-driven enrollment without a primary user in scope', () => {
      const d = healthyRecords()
      d.intune.userPrincipalName = null

      expect(scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)).toBeNull()
    })
  })

  describe('systemManaged', () => {
    it.each(['Printer', 'SecureVM', 'IoT'])(
      'skips an Entra object with profileType "%s", naming it',
      (profile) => {
        const d = healthyRecords()
        d.entra.profileType = profile

        const skip = scopeOf(onlyView(tenantFromDevice(d)), DEFAULT_POLICY, NOW)

        expect(skip?.reason).toBe('systemManaged')
        expect(skip?.note).toContain(`Entra profileType "${profile}"`)
      },
    )
  })

  describe('excludedByPolicy', () => {
    it('quotes the label the admin gave and the value that matched', () => {
      const policy = Policy.parse({
        exclude: [{ field: 'name', pattern: 'LT-*', label: 'Never touch the lab laptops' }],
      })

      const skip = scopeOf(healthyView(), policy, NOW)

      expect(skip).toEqual({
        reason: 'excludedByPolicy',
        note: 'Excluded by policy: "Never touch the lab laptops" (name is "LT-0107").',
      })
    })

    it('quotes the field and pattern when the rule has no label', () => {
      const policy = Policy.parse({ exclude: [{ field: 'serialNumber', pattern: 'pf3kx*' }] })

      expect(scopeOf(healthyView(), policy, NOW)?.note).toBe(
        'Excluded by policy: serialNumber matches "pf3kx*" (serialNumber is "PF3KX9Q1").',
      )
    })

    it('matches a Defender machine tag', () => {
      const d = healthyRecords()
      d.defender.machineTags = ['VIP', 'Finance']
      const policy = Policy.parse({ exclude: [{ field: 'defenderTag', pattern: 'vip' }] })

      expect(scopeOf(onlyView(tenantFromDevice(d)), policy, NOW)?.reason).toBe('excludedByPolicy')
    })

    it('keeps a device that matches no exclusion in scope', () => {
      const policy = Policy.parse({
        exclude: [
          { field: 'name', pattern: 'KIOSK-*' },
          { field: 'ownership', pattern: 'personal' },
        ],
      })

      expect(scopeOf(healthyView(), policy, NOW)).toBeNull()
    })

    it('comes after the built-in reasons', () => {
      const d = healthyRecords()
      d.entra.profileType = 'Shared'
      const policy = Policy.parse({ exclude: [{ field: 'name', pattern: '*' }] })

      expect(scopeOf(onlyView(tenantFromDevice(d)), policy, NOW)?.reason).toBe('sharedDevice')
    })
  })

  describe('excludedByPolicy: recently enrolled or registered', () => {
    const within14 = Policy.parse({
      excludeEnrolled: [{ withinDays: 14, label: 'Ignore devices enrolled in the last 14 days' }],
    })

    it('skips a device enrolled in Intune within the window, measured from the as-of time', () => {
      const d = healthyRecords()
      d.intune.enrolledDateTime = daysAgo(3)

      expect(scopeOf(onlyView(tenantFromDevice(d)), within14, NOW)).toEqual({
        reason: 'excludedByPolicy',
        note:
          'Excluded by policy: "Ignore devices enrolled in the last 14 days" (Intune enrolledDateTime is ' +
          `${new Date(daysAgo(3)).toISOString()}, 3 days before the run's as-of time).`,
      })
    })

    it('counts the Entra registration date too, and the newest date of any record', () => {
      const d = healthyRecords()
      d.entra.registrationDateTime = daysAgo(10)

      expect(scopeOf(onlyView(tenantFromDevice(d)), within14, NOW)?.note).toContain(
        'Entra registrationDateTime',
      )
    })

    it('keeps a device enrolled before the window, or whose dates are unknown, in scope', () => {
      const d = healthyRecords()
      d.intune.enrolledDateTime = daysAgo(14)
      expect(scopeOf(onlyView(tenantFromDevice(d)), within14, NOW)).toBeNull()
      d.intune.enrolledDateTime = null
      d.entra.registrationDateTime = null
      expect(scopeOf(onlyView(tenantFromDevice(d)), within14, NOW)).toBeNull()
    })

    it('uses the as-of time it is given, never the clock', () => {
      const d = healthyRecords()
      d.intune.enrolledDateTime = daysAgo(3)
      expect(scopeOf(onlyView(tenantFromDevice(d)), within14, NOW + 30 * 86_400_000)).toBeNull()
    })

    it('"after" a date skips devices enrolled on or after it, and quotes the date without a label', () => {
      const d = healthyRecords()
      d.intune.enrolledDateTime = Date.parse('2026-10-01T00:00:00Z')
      const after = Policy.parse({ excludeEnrolled: [{ after: '2026-10-01' }] })

      expect(scopeOf(onlyView(tenantFromDevice(d)), after, NOW)?.note).toBe(
        'Excluded by policy: enrolled or registered on or after 2026-10-01 (Intune enrolledDateTime is ' +
          "2026-10-01T00:00:00.000Z, 31 days before the run's as-of time).",
      )
      const later = Policy.parse({ excludeEnrolled: [{ after: '2026-10-02' }] })
      expect(scopeOf(onlyView(tenantFromDevice(d)), later, NOW)).toBeNull()
    })

    it.each([
      [{}, /exactly one of withinDays or after/],
      [{ withinDays: 14, after: '2026-10-01' }, /exactly one of withinDays or after/],
      [{ after: '2026-02-30' }, /ISO 8601/],
      [{ withinDays: 0 }, /too small|>0|positive/i],
    ])('rejects the policy entry %j', (entry, message) => {
      expect(() => Policy.parse({ excludeEnrolled: [entry] })).toThrow(message)
    })
  })
})

describe('globToRegExp', () => {
  it('matches case-insensitively and anchors at both ends', () => {
    expect(globToRegExp('lt-0107').test('LT-0107')).toBe(true)
    expect(globToRegExp('LT').test('LT-0107')).toBe(false)
    expect(globToRegExp('0107').test('LT-0107')).toBe(false)
  })

  it('treats * as any run of characters and ? as exactly one', () => {
    expect(globToRegExp('LT-*').test('LT-0107')).toBe(true)
    expect(globToRegExp('LT-*').test('LT-')).toBe(true)
    expect(globToRegExp('LT-010?').test('LT-0107')).toBe(true)
    expect(globToRegExp('LT-010?').test('LT-01077')).toBe(false)
  })

  it.each([
    ['a.b', 'a.b', 'axb'],
    ['(lab)+', '(lab)+', 'lablab'],
    ['[abc]', '[abc]', 'a'],
    ['^LT$', '^LT$', 'LT'],
    ['a|b', 'a|b', 'a'],
    ['\\d', '\\d', '1'],
    ['x{2}', 'x{2}', 'xx'],
    ['$5+', '$5+', '$55'],
  ])('treats the regex metacharacters of %s literally', (pattern, literal, regexMeaning) => {
    const re = globToRegExp(pattern)

    expect(re.test(literal)).toBe(true)
    expect(re.test(regexMeaning)).toBe(false)
  })
})

describe('fieldValues', () => {
  it('collects names from every source, plus the Defender host name without its domain, without duplicates', () => {
    const d = healthyRecords()
    d.defender.computerDnsName = 'lt-0107.contoso.example'
    d.autopilot.displayName = 'AP-0107'

    expect(fieldValues(onlyView(tenantFromDevice(d)), 'name')).toEqual([
      'LT-0107',
      'AP-0107',
      'lt-0107.contoso.example',
      'lt-0107',
    ])
  })

  it('drops null and empty values', () => {
    const d = healthyRecords()
    d.intune.deviceCategoryDisplayName = ''

    expect(fieldValues(onlyView(tenantFromDevice(d)), 'deviceCategory')).toEqual([])
  })

  it('counts an Autopilot identity as a Windows platform', () => {
    const d = healthyRecords()

    expect(fieldValues(onlyView(tenantFromDevice({ autopilot: d.autopilot })), 'platform')).toEqual([
      'windows',
    ])
  })

  it.each([
    ['serialNumber', ['PF3KX9Q1']],
    ['user', ['jane.doe@contoso.example']],
    ['ownership', ['company']],
    ['platform', ['windows']],
    ['defenderTag', []],
  ] as const)('reads %s across records', (field, expected) => {
    expect(fieldValues(healthyView(), field)).toEqual(expected)
  })
})

describe('scopeOf: Teams devices when Graph v1.0 hides the enrollment type', () => {
  /** An Android device from `maker` whose enrollment type v1.0 reported as `enrollment`. */
  const android = (maker: string, enrollment: string, agent = 'unknown'): DeviceView => {
    const d = healthyRecords()
    d.intune.platform = 'android'
    d.intune.operatingSystem = 'Android'
    d.intune.manufacturer = maker
    d.intune.deviceEnrollmentType = enrollment
    d.intune.managementAgent = agent
    return onlyView(tenantFromDevice({ intune: d.intune }))
  }

  it.each([
    ['Yealink', 'unknownFutureValue'],
    ['Poly', 'unknown'],
    ['AudioCodes', 'unknownFutureValue'],
    ['Neat', 'unknownFutureValue'],
  ])(
    'skips an Android device from %s whose enrollment type is %s (deleting it could wipe a Teams phone)',
    (maker, enrollment) => {
      expect(scopeOf(android(maker, enrollment), DEFAULT_POLICY, NOW)?.reason).toBe('teamsPhone')
    },
  )

  it('does not guess for makers that also build ordinary phones and tablets', () => {
    expect(scopeOf(android('Samsung', 'unknownFutureValue'), DEFAULT_POLICY, NOW)).toBeNull()
    expect(scopeOf(android('Logitech', 'unknownFutureValue'), DEFAULT_POLICY, NOW)).toBeNull()
  })

  it('does not skip a Teams-only maker device whose enrollment type is known and not AOSP', () => {
    expect(scopeOf(android('Poly', 'androidEnterpriseFullyManaged'), DEFAULT_POLICY, NOW)).toBeNull()
  })
})
