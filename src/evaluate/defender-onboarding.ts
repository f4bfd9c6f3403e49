/** @module Whether a Defender machine still has a sensor to offboard (reference §4.2 onboardingStatus values). */
import type { DefenderRecord } from '../domain/device.js'
import { lowerCaseIn } from '../domain/text.js'

/** Onboarding states after which the sensor has nothing left to offboard or to report. */
const NOT_ONBOARDED = ['canbeonboarded', 'unsupported', 'insufficientinfo', 'offboarded']

/** True unless Defender says the machine is not (or no longer) onboarded; a blank status counts as onboarded. */
export function isOnboarded(m: DefenderRecord): boolean {
  return !lowerCaseIn(m.onboardingStatus, NOT_ONBOARDED)
}
