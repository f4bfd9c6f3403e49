/** @module The names admins use for offboard's rules ("duplicates", "the Defender silence check"), resolved to rule ids. */
import type { Category } from '../domain/report.js'
import { RULES } from '../rules/index.js'

/** Everyday names of each category; a category name turns off every rule of that category. */
export const CATEGORY_NAMES: Record<Category, readonly string[]> = {
  duplicate: [
    'duplicate',
    'duplicates',
    'duplicate devices',
    'duplicate records',
    'duplicate entries',
    'superseded records',
  ],
  stale: ['stale devices', 'stale', 'staleness', 'stale device'],
  defenderOrphan: [
    'defender orphans',
    'defender orphan',
    'orphaned defender machines',
    'orphaned defender devices',
  ],
  autopilotLeftover: ['autopilot leftovers', 'autopilot leftover', 'leftover autopilot registrations'],
  removedFromIntune: ['devices removed from intune', 'removed from intune'],
  review: ['review items', 'review findings', 'reviews'],
}

/** Everyday names of single rules (besides the rule id itself, with or without hyphens). */
export const RULE_NAMES: Readonly<Record<string, readonly string[]>> = {
  'defender-silent-while-active': [
    'defender silence',
    'silent defender',
    'silent defender sensors',
    'defender sensor silence',
  ],
  'intune-silent-while-active': ['intune silence', 'silent intune', 'silent intune devices'],
  'entra-link-broken': ['broken entra links', 'broken entra link', 'entra link'],
  'unmanaged-but-active': ['unmanaged devices', 'unmanaged but active', 'unmanaged but active devices'],
  'superseded-intune-record': ['superseded intune records'],
  'superseded-entra-object': ['superseded entra objects'],
  'superseded-defender-machine': ['superseded defender machines'],
}

/** Words around a rule's name that do not change which rule is meant ("the … check"). */
const FILLER = /^(?:the|all|any)\s+|\s+(?:check|checks|rule|rules|finding|findings|detection|reports?)$/g

function phraseIndex(): Map<string, string[]> {
  const index = new Map<string, string[]>()
  const add = (phrase: string, ids: string[]) => {
    const known = index.get(phrase) ?? []
    index.set(phrase, [...new Set([...known, ...ids])])
  }
  for (const rule of RULES) {
    for (const id of [rule.id, ...(rule.aliases ?? [])]) {
      add(id, [rule.id])
      add(id.replace(/-/g, ' '), [rule.id])
    }
    for (const name of RULE_NAMES[rule.id] ?? []) add(name, [rule.id])
  }
  for (const [category, names] of Object.entries(CATEGORY_NAMES)) {
    const ids = RULES.filter((r) => r.category === category).map((r) => r.id)
    for (const name of names) add(name, ids)
  }
  return index
}

const INDEX = phraseIndex()

/** The rule ids a phrase names, in registry order, or null when it names none (the whole phrase must match). */
export function resolveRules(phrase: string): string[] | null {
  let p = phrase.toLowerCase().replace(/\s+/g, ' ').trim()
  let ids = INDEX.get(p)
  // Strip filler step by step, trying each form: "the duplicate checks" → "duplicate checks" → "duplicate".
  for (let prev = ''; !ids && prev !== p; ) {
    prev = p
    p = p.replace(FILLER, '').trim()
    ids = INDEX.get(p)
  }
  if (!ids || ids.length === 0) return null
  return RULES.map((r) => r.id).filter((id) => ids.includes(id))
}
