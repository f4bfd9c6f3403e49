/** @module Turns an admin's plain-language instructions into offboard's typed policy, sentence by sentence, offline. */
import type { Ownership, Platform } from '../domain/device.js'
import {
  DEFAULT_POLICY,
  type ExcludeField,
  type ExcludeRule,
  MIN_STALE_DAYS,
  Policy,
} from '../domain/policy.js'
import { parseTimestamp } from '../domain/time.js'
import { OffboardError } from '../lib/errors.js'
import { resolveRules } from './rule-names.js'
import { splitSentences } from './sentences.js'

export interface InterpretedSentence {
  /** Position of the sentence in the text (0-based), so applied and refused can be merged back in order. */
  index: number
  sentence: string
  /** Plain-language summary of what it changes. */
  effect: string
}

export interface RefusedSentence {
  index: number
  sentence: string
  /** Why it could not be interpreted, and what is understood instead. */
  reason: string
}

export interface Interpretation {
  policy: Policy
  applied: InterpretedSentence[]
  refused: RefusedSentence[]
}

/** Thrown by `requireAllInterpreted` when any sentence was refused; the message quotes each one. */
export class InstructionsError extends OffboardError {
  constructor(
    readonly refused: RefusedSentence[],
    /** Where the instructions came from, for the message ("--instructions", "the agent's instructions"). */
    origin?: string,
  ) {
    super(
      `${refused.length} instruction${refused.length === 1 ? '' : 's'}${origin ? ` in ${origin}` : ''} could not be applied:\n` +
        refused.map((r) => `  - "${r.sentence}": ${r.reason}`).join('\n'),
      'Rephrase or remove these sentences and run again; nothing from these instructions has been applied.',
    )
  }
}

/**
 * @throws InstructionsError quoting every refused sentence.
 * @returns the interpretation, unchanged, when every sentence was applied.
 */
export function requireAllInterpreted(i: Interpretation): Interpretation {
  if (i.refused.length > 0) throw new InstructionsError(i.refused)
  return i
}

/** Shortening the Entra delete grace period below the documented default would make deletes come sooner. */
export const MIN_INSTRUCTED_GRACE_DAYS = 30
/** Ten years: a longer window is almost certainly a typo. */
export const MAX_INSTRUCTED_DAYS = 3650

const KNOWN_PLATFORMS = 'windows, macOS, iOS/iPadOS, android, linux'
/** What "only X" leaves out: every platform a source can report except the kept ones. `unknown` stays in scope. */
const NARROWABLE_PLATFORMS: readonly Platform[] = ['windows', 'macOS', 'iOS', 'android', 'linux', 'other']
const PLATFORM_WORDS: Record<string, Platform> = {
  windows: 'windows',
  win: 'windows',
  'windows 10': 'windows',
  'windows 11': 'windows',
  pcs: 'windows',
  macos: 'macOS',
  mac: 'macOS',
  macs: 'macOS',
  'mac os': 'macOS',
  osx: 'macOS',
  'os x': 'macOS',
  macbooks: 'macOS',
  ios: 'iOS',
  ipados: 'iOS',
  iphone: 'iOS',
  iphones: 'iOS',
  ipad: 'iOS',
  ipads: 'iOS',
  android: 'android',
  linux: 'linux',
}
const PLATFORM_TITLE: Record<Platform, string> = {
  windows: 'Windows',
  macOS: 'macOS',
  iOS: 'iOS/iPadOS',
  android: 'Android',
  linux: 'Linux',
  other: 'other-platform',
  unknown: 'unknown-platform',
}

const FIELD_TITLE: Record<ExcludeField, string> = {
  name: 'name',
  platform: 'platform',
  ownership: 'ownership',
  serialNumber: 'serial number',
  groupTag: 'Autopilot group tag',
  deviceCategory: 'device category',
  defenderTag: 'Defender tag',
  user: 'primary user',
}

type Matcher = 'startsWith' | 'endsWith' | 'contains' | 'is'
const MATCHER_TITLE: Record<Matcher, string> = {
  startsWith: 'starts with',
  endsWith: 'ends with',
  contains: 'contains',
  is: 'is',
}

const UNDERSTOOD =
  'offboard understands exclusions ("Exclude devices whose name starts with LAB-", "Never touch personal ' +
  'devices", "Only look at Windows and macOS"), thresholds ("Use a 120-day threshold"), turning rules off ' +
  '("Don\'t report duplicates"), recent enrollments ("Ignore devices enrolled in the last 14 days") and the Entra ' +
  'delete grace period ("Wait 45 days after disabling before deleting")'
const NOTHING_CHANGED = 'Nothing was changed for this sentence.'
const NEVER_WIDENS =
  'offboard never widens destructive actions by instruction: deletes, retires and wipes are only ever proposed by ' +
  'its rules, as a plan you confirm. Instructions can only narrow what it looks at, move thresholds within safe ' +
  'limits, or turn rules off.'

/** What one sentence asks for, before conflicts between sentences are resolved. */
type Intent =
  | {
      kind: 'exclude'
      rules: Omit<ExcludeRule, 'label'>[]
      effect: string
      only?: { slot: string; value: string }
    }
  | { kind: 'threshold'; days: number }
  | { kind: 'grace'; days: number }
  | { kind: 'disable'; ruleIds: string[] }
  | { kind: 'enrolledWithin'; days: number }
  | { kind: 'enrolledAfter'; date: string }
  | { kind: 'refuse'; reason: string }

/** Interprets instructions on top of `base` (default policy). Pure, deterministic and offline. */
export function interpretInstructions(text: string, base: Policy = DEFAULT_POLICY): Interpretation {
  const sentences = splitSentences(text)
  const intents = sentences.map((s) => parseSentence(normalize(s)))
  const conflicts = findConflicts(sentences, intents, base)

  const policy: Policy = structuredClone(base)
  const applied: InterpretedSentence[] = []
  const refused: RefusedSentence[] = []

  for (const [index, sentence] of sentences.entries()) {
    const outcome = settle(sentence, conflicts.get(index) ?? intents[index]!, policy)
    if ('effect' in outcome) applied.push({ index, sentence, effect: outcome.effect })
    else refused.push({ index, sentence, reason: outcome.reason })
  }
  return { policy: Policy.parse(policy), applied, refused }
}

/** Applies one sentence's intent to `policy` (mutated) and says what changed, or why nothing did. */
function settle(sentence: string, intent: Intent, policy: Policy): { effect: string } | { reason: string } {
  const refuse = (reason: string) => ({ reason })
  const apply = (effect: string) => ({ effect })
  switch (intent.kind) {
    case 'refuse':
      return refuse(intent.reason)
    case 'enrolledWithin':
    case 'enrolledAfter': {
      const window =
        intent.kind === 'enrolledWithin'
          ? `in the ${intent.days} day${intent.days === 1 ? '' : 's'} before the run's as-of time`
          : `on or after ${intent.date} (UTC)`
      const entry = intent.kind === 'enrolledWithin' ? { withinDays: intent.days } : { after: intent.date }
      const known = policy.excludeEnrolled.some(
        (e) => e.withinDays === entry.withinDays && e.after === entry.after,
      )
      if (!known) policy.excludeEnrolled.push({ ...entry, label: sentence })
      return apply(
        `Skips devices enrolled in Intune or registered in Entra ID ${window} (exclusion: excludeEnrolled ` +
          `${intent.kind === 'enrolledWithin' ? `withinDays ${intent.days}` : `after ${intent.date}`}); a device ` +
          'whose enrollment and registration dates are unknown stays in scope.' +
          (known
            ? ' The policy already has this exclusion; nothing changes.'
            : ' The skip note quotes this sentence.'),
      )
    }
    case 'threshold': {
      const was = policy.staleAfterDays
      policy.staleAfterDays = intent.days
      const own = Object.entries(policy.rules)
        .filter(([, p]) => typeof p.staleAfterDays === 'number')
        .map(([id, p]) => `${id} (${p.staleAfterDays} days)`)
      return apply(
        `Sets the staleness threshold to ${intent.days} days (was ${was}): a device counts as stale after ` +
          `more than ${intent.days} days without activity.` +
          (own.length ? ` Rules with their own threshold in the policy keep it: ${own.join(', ')}.` : ''),
      )
    }
    case 'grace': {
      const was = policy.entraDeleteGraceDays
      policy.entraDeleteGraceDays = intent.days
      return apply(
        `Sets the Entra delete grace period to ${intent.days} days (was ${was}): a disabled Entra device is ` +
          `proposed for deletion only after ${intent.days} days disabled.`,
      )
    }
    case 'disable': {
      const fresh = intent.ruleIds.filter((id) => !policy.disabledRules.includes(id))
      policy.disabledRules.push(...fresh)
      const list = intent.ruleIds.join(', ')
      return apply(
        fresh.length
          ? `Turns off ${intent.ruleIds.length === 1 ? 'the rule' : 'the rules'} ${list}: ${intent.ruleIds.length === 1 ? 'it no longer runs or reports' : 'they no longer run or report'}.`
          : `The rule${intent.ruleIds.length === 1 ? '' : 's'} ${list} ${intent.ruleIds.length === 1 ? 'is' : 'are'} already off; nothing changes.`,
      )
    }
    case 'exclude': {
      const added = intent.rules.filter(
        (r) =>
          !policy.exclude.some(
            (e) => e.field === r.field && e.pattern.toLowerCase() === r.pattern.toLowerCase(),
          ),
      )
      policy.exclude.push(...added.map((r) => ({ ...r, label: sentence })))
      return apply(
        added.length
          ? `${intent.effect} The skip note quotes this sentence.`
          : `${intent.effect} The policy already has ${intent.rules.length === 1 ? 'this exclusion' : 'these exclusions'}; nothing changes.`,
      )
    }
  }
}

/** Sentences that set one setting to different values contradict each other: all of them are refused. */
function findConflicts(sentences: string[], intents: Intent[], base: Policy): Map<number, Intent> {
  const slots = new Map<string, { index: number; value: string }[]>()
  intents.forEach((intent, index) => {
    const slot =
      intent.kind === 'threshold'
        ? { slot: 'threshold', value: String(intent.days) }
        : intent.kind === 'grace'
          ? { slot: 'grace', value: String(intent.days) }
          : intent.kind === 'exclude' && intent.only
            ? intent.only
            : null
    if (!slot) return
    slots.set(slot.slot, [...(slots.get(slot.slot) ?? []), { index, value: slot.value }])
  })
  const kept: Record<string, string> = {
    threshold: `The staleness threshold stays at ${base.staleAfterDays} days.`,
    grace: `The Entra delete grace period stays at ${base.entraDeleteGraceDays} days.`,
    platform: 'No platform is excluded by these sentences.',
    ownership: 'No ownership is excluded by these sentences.',
  }
  const out = new Map<number, Intent>()
  for (const [slot, uses] of slots) {
    if (new Set(uses.map((u) => u.value)).size < 2) continue
    for (const use of uses) {
      const others = uses.filter((u) => u.index !== use.index && u.value !== use.value)
      out.set(use.index, {
        kind: 'refuse',
        reason:
          `Contradicts ${others.map((o) => `"${sentences[o.index]}"`).join(' and ')}; offboard cannot tell which ` +
          `one you mean, so neither is applied. ${kept[slot]} Say it once.`,
      })
    }
  }
  return out
}

/** Uniform spacing, straight quotes, no closing punctuation; the case is kept because values are case-preserving. */
function normalize(sentence: string): string {
  return sentence
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!]+$/, '')
    .replace(/^please\s+/i, '')
    .trim()
}

const N_UNIT = String.raw`(\d+)\s*-?\s*(days?|weeks?|months?|years?)`
const SUBJECT = String.raw`(?:(?:all|any|the)\s+)?(?:devices?|machines?|computers?|endpoints?|laptops?|phones?|anything|everything|records?)`
const NOT_VERB = String.raw`(?:don't|do\s+not|never)`

const THRESHOLD_PATTERNS = [
  new RegExp(
    String.raw`^(?:treat|consider|count|mark|flag|call)\s+${SUBJECT}\s+(?:(?:that|which)\s+(?:have\s+been|has\s+been|are|were|is)\s+)?(?:inactive|unused|idle|silent|unseen|not\s+seen|offline)\s+(?:for\s+)?(?:more\s+than\s+|over\s+|longer\s+than\s+|at\s+least\s+)?${N_UNIT}\s+as\s+stale$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:use|set|apply|make\s+it)\s+(?:an?\s+|the\s+)?${N_UNIT}\s+(?:staleness\s+|stale\s+|inactivity\s+)?(?:threshold|window|cut-?off|limit)$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:use|set|make|change)\s+(?:the\s+)?(?:staleness\s+|stale\s+|inactivity\s+)?(?:threshold|window|cut-?off)\s+(?:to|of|at)\s+${N_UNIT}$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:the\s+)?(?:staleness\s+|stale\s+|inactivity\s+)?(?:threshold|window)\s+(?:is|should\s+be|=|:)\s+${N_UNIT}$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:${SUBJECT}\s+)?(?:are|is|become|becomes|go|goes|count\s+as|should\s+be\s+considered)\s+stale\s+after\s+(?:more\s+than\s+)?${N_UNIT}(?:\s+(?:of\s+inactivity|without\s+activity|without\s+being\s+seen))?$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:consider|treat)\s+(?:${SUBJECT}\s+)?stale\s+after\s+(?:more\s+than\s+)?${N_UNIT}(?:\s+(?:of\s+inactivity|without\s+activity))?$`,
    'i',
  ),
]

const GRACE_PATTERNS = [
  new RegExp(
    String.raw`^wait\s+${N_UNIT}\s+(?:after\s+(?:disabling|a\s+device\s+is\s+disabled|devices\s+are\s+disabled|disabling\s+(?:a\s+)?devices?)\s+)?before\s+deleting(?:\s+(?:it|them|devices?|(?:the\s+)?entra\s+(?:objects?|devices?)))?(?:\s+after\s+disabling)?$`,
    'i',
  ),
  new RegExp(String.raw`^wait\s+${N_UNIT}\s+between\s+disabling\s+and\s+deleting$`, 'i'),
  new RegExp(
    String.raw`^(?:keep|leave)\s+(?:disabled\s+)?(?:devices?\s+|entra\s+(?:objects?|devices?)\s+|objects?\s+)?(?:disabled\s+)?(?:for\s+)?${N_UNIT}\s+before\s+deleting(?:\s+(?:it|them))?$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:set|use|make)\s+(?:the\s+)?(?:entra\s+)?(?:delete\s+|deletion\s+)?grace\s+period\s+(?:to|of)\s+${N_UNIT}$`,
    'i',
  ),
  new RegExp(
    String.raw`^(?:use\s+)?an?\s+${N_UNIT}\s+(?:entra\s+)?(?:delete\s+|deletion\s+)?grace\s+period$`,
    'i',
  ),
]

const DISABLE_PATTERNS = [
  /^(?:don't|do\s+not|never|stop)\s+(?:report(?:ing)?|flag(?:ging)?|check(?:ing)?(?:\s+for)?|look(?:ing)?\s+for|show(?:ing)?|detect(?:ing)?|suggest(?:ing)?|run(?:ning)?)\s+(.+)$/i,
  /^(?:turn\s+off|switch\s+off|disable|deactivate|skip|ignore|mute|silence|no\s+more)\s+(.+)$/i,
]

const REENABLE =
  /^(?:include|enable|re-?enable|turn\s+on|switch\s+on|stop\s+excluding|stop\s+skipping|stop\s+ignoring|(?:don't|do\s+not|never)\s+(?:exclude|skip|ignore))\b/i

const ONLY_PATTERNS = [
  /^only\s+(?:look\s+at|consider|handle|process|check|manage|offboard|clean\s+up|include|act\s+on|touch|evaluate|report\s+on|cover|scan|analy[sz]e)\s+(.+)$/i,
  /^(?:look\s+at|consider|handle|process|check|manage|offboard|clean\s+up|include|act\s+on|touch|evaluate|report\s+on|cover|scan)\s+only\s+(.+)$/i,
  /^(?:restrict|limit)\s+(?:offboard\s+|the\s+scope\s+|scope\s+|this\s+|it\s+)?to\s+(.+)$/i,
  /^only\s+(.+)$/i,
]

const EXCLUDE_WRAPPERS = [
  new RegExp(
    String.raw`^(?:exclude|skip|ignore|spare|protect|leave\s+out|keep\s+away\s+from|stay\s+away\s+from|hands\s+off|${NOT_VERB}\s+(?:touch|act\s+on|offboard|delete|wipe|retire|remove|report|flag)|never\s+suggest\s+offboarding)\s+(.+?)(?:\s+from\s+(?:offboarding|the\s+report|cleanup|clean-up|all\s+actions))?$`,
    'i',
  ),
  /^leave\s+(.+?)\s+alone$/i,
  /^leave\s+alone\s+(.+)$/i,
  /^(.+?)\s+(?:are|is)\s+(?:off[- ]limits|out\s+of\s+scope|excluded)$/i,
]

const DESTRUCTIVE =
  /\b(?:delete|deleting|wipe|wiping|retire|retiring|remove|removing|purge|erase|offboard|reset|disable|disabling|nuke|get\s+rid\s+of|clean\s+up)\b/i

function parseSentence(s: string): Intent {
  for (const re of GRACE_PATTERNS) {
    const m = re.exec(s)
    if (m) return daysIntent('grace', m[1]!, m[2]!)
  }
  for (const re of THRESHOLD_PATTERNS) {
    const m = re.exec(s)
    if (m) return daysIntent('threshold', m[1]!, m[2]!)
  }
  for (const re of DISABLE_PATTERNS) {
    const m = re.exec(s)
    const ids = m ? resolveRules(m[1]!) : null
    if (ids) return { kind: 'disable', ruleIds: ids }
  }
  if (REENABLE.test(s)) {
    return {
      kind: 'refuse',
      reason:
        'Instructions only add exclusions and turn rules off; removing an exclusion or turning a rule back on ' +
        `widens what offboard acts on, so do it in the policy file. ${NOTHING_CHANGED}`,
    }
  }
  for (const [i, re] of ONLY_PATTERNS.entries()) {
    const m = re.exec(s)
    if (!m) continue
    const only = parseOnly(m[1]!)
    // "Only …" with nothing after it that names a platform or an ownership is refused, except for the bare
    // "Only X" form, which may be the start of some other sentence.
    if (only) return only
    if (i < ONLY_PATTERNS.length - 1) {
      return {
        kind: 'refuse',
        reason:
          `"Only" can narrow offboard to platforms (${KNOWN_PLATFORMS}) or to corporate or personal devices; ` +
          `"${m[1]}" is neither. Write other limits as exclusions ("Exclude devices whose name starts with …"). ` +
          NOTHING_CHANGED,
      }
    }
  }
  for (const re of EXCLUDE_WRAPPERS) {
    const m = re.exec(s)
    if (!m) continue
    const target = parseTarget(m[1]!.trim())
    if (target) return target
  }
  if (DESTRUCTIVE.test(s)) return { kind: 'refuse', reason: `${NEVER_WIDENS} ${NOTHING_CHANGED}` }
  if (/\b(?:stale|threshold|inactive|inactivity)\b/i.test(s) && /\d/.test(s)) {
    return {
      kind: 'refuse',
      reason: `offboard could not read a threshold from this sentence. Write it as "Use a 120-day threshold". ${NOTHING_CHANGED}`,
    }
  }
  return {
    kind: 'refuse',
    reason: `offboard could not interpret this sentence. ${UNDERSTOOD}. ${NOTHING_CHANGED}`,
  }
}

function daysIntent(kind: 'threshold' | 'grace' | 'enrolledWithin', amount: string, unit: string): Intent {
  const u = unit.toLowerCase()
  const what = kind === 'threshold' ? 'A threshold' : kind === 'grace' ? 'A grace period' : 'A period'
  if (u.startsWith('month') || u.startsWith('year')) {
    return {
      kind: 'refuse',
      reason: `${what} in ${u.startsWith('month') ? 'months' : 'years'} is ambiguous (months and years differ in length); state it as a number of days, e.g. "Use a 180-day threshold". ${NOTHING_CHANGED}`,
    }
  }
  const days = Number(amount) * (u.startsWith('week') ? 7 : 1)
  if (!Number.isSafeInteger(days) || days > MAX_INSTRUCTED_DAYS) {
    return {
      kind: 'refuse',
      reason: `${days} days is longer than ${MAX_INSTRUCTED_DAYS} days (ten years) and looks like a typo. ${NOTHING_CHANGED}`,
    }
  }
  if (kind === 'threshold' && days < MIN_STALE_DAYS) {
    return {
      kind: 'refuse',
      reason:
        `A staleness threshold of ${days} days is below offboard's minimum of ${MIN_STALE_DAYS} days: Entra ` +
        "rewrites a device's last sign-in only when it is older than about 14 days (±5), so a shorter window " +
        `would call devices stale that are in use. The threshold stays as it was.`,
    }
  }
  if (kind === 'enrolledWithin' && days < 1) {
    return {
      kind: 'refuse',
      reason: `A window of ${days} days excludes nothing; say how many days. ${NOTHING_CHANGED}`,
    }
  }
  if (kind === 'grace' && days < MIN_INSTRUCTED_GRACE_DAYS) {
    return {
      kind: 'refuse',
      reason:
        `A grace period of ${days} days is shorter than ${MIN_INSTRUCTED_GRACE_DAYS} days: Entra deletes would ` +
        `come sooner, and ${NEVER_WIDENS} The grace period stays as it was.`,
    }
  }
  return { kind, days }
}

/** "enrolled after 2026-10-01": a calendar day in ISO form only, so "after 01/10" is never read the wrong way round. */
function enrolledAfterIntent(value: string): Intent {
  const day = ISO_DAY_RE.exec(value)?.[1]
  const parsed = day ? parseTimestamp(day) : null
  if (!day || !parsed?.ok || parsed.ms === null) {
    return {
      kind: 'refuse',
      reason: `"${value}" is not a date offboard can read; write it as YYYY-MM-DD, e.g. "Ignore devices enrolled after 2026-10-01". ${NOTHING_CHANGED}`,
    }
  }
  return { kind: 'enrolledAfter', date: day }
}

const OWNERSHIP_WORDS: Record<string, Ownership> = {
  personal: 'personal',
  private: 'personal',
  byod: 'personal',
  'employee-owned': 'personal',
  'employee owned': 'personal',
  'user-owned': 'personal',
  'user owned': 'personal',
  corporate: 'company',
  company: 'company',
  'company-owned': 'company',
  'company owned': 'company',
  'corporate-owned': 'company',
  'corporate owned': 'company',
  'organization-owned': 'company',
  work: 'company',
}
const DEVICE_NOUN = '(?:devices?|machines?|phones?|laptops?|computers?|endpoints?)'
const OWNERSHIP_RE = new RegExp(
  String.raw`^(?:(?:all|any|the)\s+)?(${Object.keys(OWNERSHIP_WORDS).join('|')})\s+${DEVICE_NOUN}$`,
  'i',
)

/** A list like "Windows and macOS", "android, linux", "iOS/iPadOS"; null when no word is a platform. */
function parsePlatforms(list: string): { known: Platform[]; unknown: string[] } | null {
  const words = list
    .split(/\s*(?:,|\/|\band\b|\bor\b|&)\s*/i)
    .map((w) => w.trim())
    .filter(Boolean)
  const known: Platform[] = []
  const unknown: string[] = []
  for (const w of words) {
    const p = PLATFORM_WORDS[w.toLowerCase()]
    if (p) {
      if (!known.includes(p)) known.push(p)
    } else unknown.push(w)
  }
  return known.length ? { known, unknown } : null
}

function unknownPlatforms(unknown: string[]): Intent {
  return {
    kind: 'refuse',
    reason: `${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length === 1 ? 'is not a platform' : 'are not platforms'} offboard knows (${KNOWN_PLATFORMS}). ${NOTHING_CHANGED}`,
  }
}

const PLATFORM_LIST_RE = new RegExp(String.raw`^(?:(?:all|any|the)\s+)?(.+?)(?:\s+${DEVICE_NOUN})?$`, 'i')
const RUNNING_RE = new RegExp(String.raw`^${SUBJECT}\s+(?:running|on)\s+(.+)$`, 'i')

function parseOnly(target: string): Intent | null {
  const own = OWNERSHIP_RE.exec(target)
  if (own) {
    const keep = OWNERSHIP_WORDS[own[1]!.toLowerCase()]!
    const drop: Ownership = keep === 'company' ? 'personal' : 'company'
    return {
      kind: 'exclude',
      rules: [{ field: 'ownership', pattern: drop }],
      effect: `Skips ${drop === 'company' ? 'corporate' : 'personal'} devices, so only ${keep === 'company' ? 'corporate' : 'personal'} devices are considered (exclusion: ownership matches "${drop}"); devices whose ownership no source reports stay in scope.`,
      only: { slot: 'ownership', value: keep },
    }
  }
  const list = RUNNING_RE.exec(target)?.[1] ?? PLATFORM_LIST_RE.exec(target)?.[1] ?? target
  const platforms = parsePlatforms(list)
  if (!platforms) return null
  if (platforms.unknown.length) return unknownPlatforms(platforms.unknown)
  const drop = NARROWABLE_PLATFORMS.filter((p) => !platforms.known.includes(p))
  return {
    kind: 'exclude',
    rules: drop.map((p) => ({ field: 'platform', pattern: p })),
    effect:
      `Skips ${titleList(drop.map((p) => PLATFORM_TITLE[p]))} devices, so only ${titleList(platforms.known.map((p) => PLATFORM_TITLE[p]))} ` +
      `devices are considered (exclusion: platform matches ${drop.map((p) => `"${p}"`).join(', ')}); devices whose ` +
      'platform no source reports stay in scope.',
    only: { slot: 'platform', value: [...platforms.known].sort().join(',') },
  }
}

function titleList(items: string[]): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

const FIELD_WORDS: [ExcludeField, RegExp][] = [
  ['serialNumber', /^serial(?:\s+numbers?|s|\s+no)?\b\s*(.*)$/i],
  ['groupTag', /^(?:autopilot\s+)?group\s*-?\s*tags?\b\s*(.*)$/i],
  ['deviceCategory', /^(?:device\s+|intune\s+)?categor(?:y|ies)\b\s*(.*)$/i],
  ['defenderTag', /^defender\s+(?:machine\s+|device\s+)?tags?\b\s*(.*)$/i],
  ['user', /^(?:primary\s+)?(?:users?|upns?|user\s+principal\s+names?)\b\s*(.*)$/i],
  ['name', /^(?:device\s+|host\s*|computer\s+|display\s+)?names?\b\s*(.*)$/i],
]
const CONNECTOR =
  /^(?:(?:whose|with|having|where|in|that\s+have|which\s+have)\s+)?(?:(?:an?|the|their|its)\s+)?/i
const MATCHER =
  /^(?:(?:that|which)\s+)?(?:(?:is|are)\s+)?(?:(start(?:s|ing)?|begin(?:s|ning)?|end(?:s|ing)?|contain(?:s|ing)?|include(?:s|ing)?|match(?:es|ing)?|like|equal(?:s|ling)?|=|:|is|are)\b\s*)?(?:(?:with|in|to)\s+)?(.*)$/i

function matcherOf(word: string | undefined): Matcher {
  const w = (word ?? '').toLowerCase()
  if (w.startsWith('start') || w.startsWith('begin')) return 'startsWith'
  if (w.startsWith('end')) return 'endsWith'
  if (w.startsWith('contain') || w.startsWith('include')) return 'contains'
  return 'is'
}

/** The admin's value, without surrounding quotes; `*` and `?` stay, as the glob's wildcards. */
function cleanValue(raw: string): string {
  let v = raw.trim()
  const q = /^(["'`])(.*)\1$/.exec(v)
  if (q) v = q[2]!.trim()
  return v
}

function exclusion(field: ExcludeField, matcher: Matcher, rawValue: string): Intent {
  const value = cleanValue(rawValue)
  const quoted = value !== rawValue.trim()
  // An unquoted value that carries a second instruction ("LAB- and delete the rest") must not hide it in a pattern.
  if (!quoted && (/\s(?:and|but|then|also|except|unless)\s/i.test(value) || DESTRUCTIVE.test(value))) {
    return {
      kind: 'refuse',
      reason:
        'This sentence seems to hold more than one instruction; write one instruction per sentence (put a value ' +
        `that contains spaces in double quotes). ${NOTHING_CHANGED}`,
    }
  }
  if (!value) {
    return {
      kind: 'refuse',
      reason: `The ${FIELD_TITLE[field]} to match is empty, so there is nothing to exclude. ${NOTHING_CHANGED}`,
    }
  }
  if (/^[*?\s]+$/.test(value)) {
    return {
      kind: 'refuse',
      reason: `The pattern "${value}" is only wildcards and would exclude every device; say which devices to leave alone. ${NOTHING_CHANGED}`,
    }
  }
  if (field === 'user' && !value.includes('@') && matcher === 'is') {
    return {
      kind: 'refuse',
      reason: `Users are matched on their sign-in address (UPN), e.g. alice@contoso.com; "${value}" is not one. ${NOTHING_CHANGED}`,
    }
  }
  const pattern =
    matcher === 'startsWith'
      ? `${value}*`
      : matcher === 'endsWith'
        ? `*${value}`
        : matcher === 'contains'
          ? `*${value}*`
          : value
  const wildcards = /[*?]/.test(value)
    ? ' In the pattern, "*" matches any text and "?" any one character.'
    : ''
  return {
    kind: 'exclude',
    rules: [{ field, pattern }],
    effect: `Skips devices whose ${FIELD_TITLE[field]} ${MATCHER_TITLE[matcher]} "${value}" (exclusion: ${field} matches "${pattern}").${wildcards}`,
  }
}

const TAGGED_RE = new RegExp(
  String.raw`^(?:${SUBJECT}\s+)?(?:that\s+(?:is|are)\s+)?tagged\s+(?:with\s+|as\s+)?(.+?)(?:\s+(?:in|by|on|from)\s+(defender|autopilot))?$`,
  'i',
)
const IN_CATEGORY_RE = new RegExp(
  String.raw`^(?:${SUBJECT}\s+)?in\s+(?:the\s+)?(.+?)\s+(?:device\s+)?category$`,
  'i',
)
const OF_USER_RE = new RegExp(
  String.raw`^(?:${SUBJECT}\s+)?(?:of|owned\s+by|used\s+by|belonging\s+to|assigned\s+to|enrolled\s+by)\s+(?:the\s+)?(?:users?\s+)?(.+)$`,
  'i',
)
const NAMED_RE = new RegExp(String.raw`^(?:${SUBJECT}\s+)?(?:named|called)\s+(.+)$`, 'i')
const ENROLLED_RE = new RegExp(
  String.raw`^${SUBJECT}\s+(?:(?:that|which)\s+(?:were|was|have\s+been|has\s+been)\s+)?(?:enrolled|registered|added|set\s+up|provisioned|joined)\s+(?:in|within|during)\s+the\s+(?:last|past)\s+(?:(\d+)\s+)?(days?|weeks?|months?|years?)$`,
  'i',
)
const ENROLLED_AFTER_RE = new RegExp(
  String.raw`^${SUBJECT}\s+(?:(?:that|which)\s+(?:were|was|have\s+been|has\s+been)\s+)?(?:enrolled|registered|added|set\s+up|provisioned|joined)\s+(?:after|since|from|on\s+or\s+after)\s+(.+)$`,
  'i',
)
const ISO_DAY_RE = /^(\d{4}-\d{2}-\d{2})$/
const SUBJECT_RE = new RegExp(String.raw`^${SUBJECT}\s+`, 'i')

/** What an exclusion verb ("Exclude …", "Leave … alone") applies to; null when it is not understood. */
function parseTarget(target: string): Intent | null {
  const enrolled = ENROLLED_RE.exec(target)
  if (enrolled) return daysIntent('enrolledWithin', enrolled[1] ?? '1', enrolled[2]!)
  const after = ENROLLED_AFTER_RE.exec(target)
  if (after) return enrolledAfterIntent(cleanValue(after[1]!))

  const own = OWNERSHIP_RE.exec(target)
  if (own) {
    const ownership = OWNERSHIP_WORDS[own[1]!.toLowerCase()]!
    return {
      kind: 'exclude',
      rules: [{ field: 'ownership', pattern: ownership }],
      effect: `Skips ${ownership === 'company' ? 'corporate' : 'personal'} devices (exclusion: ownership matches "${ownership}").`,
    }
  }

  const tagged = TAGGED_RE.exec(target)
  if (tagged) {
    const system = tagged[2]?.toLowerCase()
    if (!system) {
      return {
        kind: 'refuse',
        reason: `"Tagged" could mean a Defender tag or an Autopilot group tag; say which ("tagged ${cleanValue(tagged[1]!)} in Defender"). ${NOTHING_CHANGED}`,
      }
    }
    return exclusion(system === 'defender' ? 'defenderTag' : 'groupTag', 'is', tagged[1]!)
  }
  const inCategory = IN_CATEGORY_RE.exec(target)
  if (inCategory) return exclusion('deviceCategory', 'is', inCategory[1]!)
  const named = NAMED_RE.exec(target)
  if (named) return exclusion('name', 'is', named[1]!)

  // "devices whose name starts with …", "serial numbers starting with …", "devices with group tag …".
  const rest = target.replace(SUBJECT_RE, '').replace(CONNECTOR, '')
  for (const [field, re] of FIELD_WORDS) {
    const f = re.exec(rest)
    if (!f) continue
    const m = MATCHER.exec(f[1]!)!
    return exclusion(field, matcherOf(m[1]), m[2]!)
  }

  const ofUser = OF_USER_RE.exec(target)
  if (ofUser) return exclusion('user', 'is', ofUser[1]!)

  const running = RUNNING_RE.exec(target)
  const list = running?.[1] ?? PLATFORM_LIST_RE.exec(target)?.[1]
  const platforms = list ? parsePlatforms(list) : null
  if (platforms) {
    if (platforms.unknown.length) return unknownPlatforms(platforms.unknown)
    return {
      kind: 'exclude',
      rules: platforms.known.map((p) => ({ field: 'platform', pattern: p })),
      effect: `Skips ${titleList(platforms.known.map((p) => PLATFORM_TITLE[p]))} devices (exclusion: platform matches ${platforms.known.map((p) => `"${p}"`).join(', ')}).`,
    }
  }
  return null
}
