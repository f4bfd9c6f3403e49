/** @module The report's plain-language summary, in the seeds' form: "There are N devices that …", then the factors. */
import type { Category, Skipped, Suggestion } from '../domain/report.js'
import { CATEGORY_PRIORITY } from '../plan/recommend.js'

/** The sentence for one category, agreeing with the count ("1 device that is …", "23 devices that are …"). */
const PHRASE: Record<Category, (days: number, n: number) => string> = {
  removedFromIntune: (_d, n) =>
    `that ${n === 1 ? 'is' : 'are'} no longer in Intune but still in other portals`,
  stale: (days, n) => `that ${n === 1 ? 'was' : 'were'} not seen by any source for more than ${days} days`,
  duplicate: () => 'with superseded duplicate records',
  defenderOrphan: (_d, n) =>
    `that only Defender knows and that ${n === 1 ? 'has' : 'have'} stopped reporting`,
  autopilotLeftover: (_d, n) =>
    `that ${n === 1 ? 'is' : 'are'} still registered in Windows Autopilot after leaving Intune`,
  review: (_d, n) => `that ${n === 1 ? 'is' : 'are'} in use but need${n === 1 ? 's' : ''} a review`,
}

/** The same, as a list item after a count ("23 no longer in Intune …"). */
const SHORT: Record<Category, (days: number) => string> = {
  removedFromIntune: () => 'no longer in Intune but still in other portals',
  stale: (days) => `not seen by any source for more than ${days} days`,
  duplicate: () => 'with superseded duplicate records',
  defenderOrphan: () => 'known only to Defender and no longer reporting',
  autopilotLeftover: () => 'still registered in Windows Autopilot after leaving Intune',
  review: () => 'in use but needing a review',
}

/** Why each category matters; the first list is the seeds' own wording. */
export const FACTORS: Record<Category, string[]> = {
  removedFromIntune: [
    'Users accessing corporate apps without MDM enrollment.',
    'Cannot enforce compliance policies or data protection.',
    'Personal devices may have corporate data without proper controls.',
    'Conditional access limited to user-based policies only.',
  ],
  stale: [
    'Inactive devices still count in compliance, licence and inventory reports.',
    'A lost or stolen device that is still enabled can satisfy device-based Conditional Access.',
  ],
  duplicate: [
    'Re-imaged or re-enrolled hardware is counted twice, which skews compliance and exposure numbers.',
  ],
  defenderOrphan: ['Machines that no longer exist inflate exposure scores and vulnerability reports.'],
  autopilotLeftover: [
    'A device still registered in Autopilot stays bound to the tenant and cannot be registered by its next owner.',
  ],
  review: [
    'Devices in use with a silent MDM agent or sensor, or without management, are unprotected: fix them, do not offboard them.',
  ],
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many)

export function summarize(
  suggestions: Suggestion[],
  skipped: Skipped[],
  undetermined: number,
  staleAfterDays: number,
): { text: string; factors: string[] } {
  const counts = new Map<Category, number>()
  for (const s of suggestions) counts.set(s.category, (counts.get(s.category) ?? 0) + 1)
  const destructive = CATEGORY_PRIORITY.filter((c) => c !== 'review' && counts.has(c))
  const total = destructive.reduce((n, c) => n + counts.get(c)!, 0)
  const review = counts.get('review') ?? 0
  const parts: string[] = []
  if (total === 0) parts.push('There are no devices to offboard.')
  else if (destructive.length === 1) {
    const c = destructive[0]!
    parts.push(
      `There ${plural(total, 'is', 'are')} ${total} ${plural(total, 'device', 'devices')} ${PHRASE[c](staleAfterDays, total)}. ` +
        `${plural(total, 'This device', 'These devices')} should be removed.`,
    )
  } else {
    const list = destructive.map((c) => `${counts.get(c)} ${SHORT[c](staleAfterDays)}`).join('; ')
    parts.push(`There are ${total} devices that should be offboarded: ${list}.`)
  }
  if (review)
    parts.push(
      `${review} more ${plural(review, 'device is', 'devices are')} in use but ${plural(review, 'needs', 'need')} a review (no destructive action).`,
    )
  const flaggedSkips = skipped.filter((s) => s.wouldBe.length > 0).length
  if (skipped.length) {
    parts.push(
      `${skipped.length} out-of-scope ${plural(skipped.length, 'device was', 'devices were')} skipped` +
        (flaggedSkips ? ` (${flaggedSkips} would otherwise have been flagged).` : '.'),
    )
  }
  if (undetermined)
    parts.push(
      `${undetermined} ${plural(undetermined, 'device', 'devices')} could not be judged and ${plural(undetermined, 'is', 'are')} reported as unknown.`,
    )
  const factors = [...new Set(CATEGORY_PRIORITY.filter((c) => counts.has(c)).flatMap((c) => FACTORS[c]))]
  return { text: parts.join(' '), factors }
}
