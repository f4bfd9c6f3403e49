/**
 * @module Maps a plain-language question to one query and its parameters, offline and deterministically. Every
 * word of a question must be understood: a question with a word offboard cannot place is refused with the list
 * of what it can answer, never answered by a guess.
 */

import type { ActionSystem } from '../domain/action.js'
import type { Ownership, Platform } from '../domain/device.js'
import type { Category, Severity, SkipReason } from '../domain/report.js'
import type { QueryKind } from './answer.js'

export type ParsedQuestion =
  | { ok: true; kind: QueryKind; params: Record<string, unknown>; notes: string[] }
  | { ok: false; reason: string }

/** The questions offboard can answer, shown with every refusal. */
export const CAN_ANSWER: readonly string[] = [
  'Find all devices that were removed from Intune but might still exist in Microsoft Entra. Provide steps to properly remove them from Entra.',
  'Which devices are stale? / Show duplicates / Defender orphans / Autopilot leftovers / devices that need a review.',
  'Which Windows (macOS, iOS, Android, Linux) devices are flagged? Which personal (corporate) devices are flagged?',
  'Which devices have been inactive for more than 180 days? Which flagged devices were seen in the last 30 days?',
  'How many devices are stale? How many flagged devices per category (platform, ownership, severity)?',
  'Summarise the latest run.',
  'Why is LT-0107 flagged? (a device name, suggestion id or record id)',
  'What happens if I disable LT-0107?',
  'What changed since the last run?',
  'Which tasks are in progress? (not started, in progress, completed, open)',
  'Which devices were skipped (hybrid-joined, shared, Teams phones)? Which devices could not be judged?',
]

const ASK_NEVER_ACTS =
  "offboard ask only answers questions and never changes the tenant; to act, use 'offboard act' (a dry run first, then --confirm)."

/** Words that carry no meaning of their own in a question about devices. */
const FILLER = new Set(
  (
    'a an the all any every each of in on at to for from by with and or but that which who whose what where when ' +
    'is are was were be been being do does did have has had can could would should will shall may might must ' +
    'i we you me us my our your it its they them their these those this there here please ' +
    'find list show give tell display get see provide return report fetch let know want need needs like ' +
    'which how many much number count total devices device machines machine computers computer endpoints ' +
    'still currently now right exist exists existing remain remaining still flagged flag listed marked ' +
    'suggested recommended identified detected found reported offboard offboarded offboarding should be ' +
    'remove properly correctly safely steps step instructions guide way them microsoft portals portal ' +
    'other also about some more ones one tenant latest current run results result candidates candidate ' +
    'cleanup so as if then out into up just only last previous time'
  ).split(/\s+/),
)

const CATEGORY_PHRASES: [Category, RegExp][] = [
  [
    'removedFromIntune',
    /\b(?:(?:were|was|been|are|got)\s+)?(?:removed|deleted|gone|missing|dropped|retired)\s+from\s+(?:microsoft\s+)?intune\b|\bno\s+longer\s+(?:in|managed\s+by|enrolled\s+in)\s+intune\b|\bnot\s+in\s+intune\s+any\s*more\b|\bleft\s+intune\b|\bremoved\s+from\s+intune\s+category\b|\bremovedfromintune\b/,
  ],
  [
    'duplicate',
    /\b(?:superseded\s+)?duplicates?(?:\s+records?)?\b|\bduplicated\b|\bsuperseded(?:\s+records?)?\b|\bre-?imaged\b/,
  ],
  [
    'defenderOrphan',
    /\bdefender\s+orphans?\b|\borphan(?:ed)?\s+(?:defender\s+)?(?:machines?|entries|devices?|records?)\b|\bonly\s+(?:in|known\s+to)\s+defender\b|\bknown\s+only\s+to\s+defender\b|\bdefender[-\s]only\b|\bdefenderorphan\b|\borphans?\b/,
  ],
  [
    'autopilotLeftover',
    /\bautopilot\s+left-?\s?overs?\b|\bleft-?\s?overs?\s+in\s+(?:windows\s+)?autopilot\b|\bstill\s+(?:registered\s+)?in\s+(?:windows\s+)?autopilot\b|\bautopilotleftover\b|\bleft-?\s?overs?\b/,
  ],
  [
    'review',
    /\b(?:need|needs|needing|require|requires)\s+(?:a\s+|an\s+)?(?:manual\s+)?review\b|\bto\s+review\b|\breview\s+category\b|\bin\s+use\s+but\b[^?]*|\bfor\s+review\b|\breview\s+(?:items?|findings?|suggestions?)\b|\breviews\b/,
  ],
  [
    'stale',
    /\bstale\b|\bdormant\b|\bunused\b|\binactive\b(?!\s+(?:for|since))|\bnot\s+seen\b(?!\s+(?:for|in|since))/,
  ],
]

const PLATFORM_PHRASES: [Platform, RegExp][] = [
  // A version ("Windows 11") is not matched: the platform cannot tell versions apart, so the question is refused.
  ['windows', /\bwindows\b(?!\s+\d)|\bpcs?\b/],
  ['macOS', /\bmac\s?os\b|\bmacs?\b|\bmacbooks?\b|\bos\s?x\b/],
  ['iOS', /\bipados\b|\bios\b|\biphones?\b|\bipads?\b/],
  ['android', /\bandroid\b/],
  ['linux', /\blinux\b/],
]

const OWNERSHIP_PHRASES: [Ownership, RegExp][] = [
  ['personal', /\b(?:personal(?:ly)?(?:[-\s]owned)?|byod|employee[-\s]owned|private)\b/],
  [
    'company',
    /\b(?:corporate(?:[-\s]owned)?|company[-\s]owned|company|organi[sz]ation[-\s]owned)\b|\bwork\s+(?=devices?|machines?|laptops?|phones?)/,
  ],
]

const SEVERITY_PHRASE =
  /\b(high|medium|low)[-\s](?:severity|priority)\b|\bseverity\s+(?:is\s+)?(high|medium|low)\b/

const SKIP_PHRASES: [SkipReason, RegExp][] = [
  ['hybridJoined', /\bhybrid(?:[-\s]joined)?\b/],
  ['sharedDevice', /\bshared\b|\buserless\b/],
  ['teamsPhone', /\bteams\s+(?:phones?|panels?|devices?|rooms?)\b/],
  ['systemManaged', /\bsystem[-\s]managed\b/],
  ['ambiguousMatch', /\bambiguous(?:\s+match(?:es)?)?\b/],
  ['excludedByPolicy', /\bexcluded(?:\s+by\s+(?:the\s+)?(?:policy|instructions))?\b/],
]

const UNIT = String.raw`(\d{1,5})\s*-?\s*(days?|weeks?|months?|years?)`
const AGE_OLDER: RegExp[] = [
  new RegExp(
    String.raw`\b(?:(?:been|are|were|is)\s+)?(?:inactive|idle|silent|unseen|not\s+(?:been\s+)?seen|(?:have|has)\s*(?:not|n't)\s+been\s+(?:seen|active|used)|not\s+active|offline|without\s+(?:any\s+)?activity|with\s+no\s+activity)\s+(?:for\s+|in\s+(?:the\s+)?(?:last\s+|past\s+)?|since\s+)?(?:more\s+than\s+|over\s+|longer\s+than\s+|at\s+least\s+)?${UNIT}\b`,
  ),
  new RegExp(String.raw`\b(?:last\s+(?:seen|active|activity)\s+)?(?:more\s+than\s+|over\s+)${UNIT}\s+ago\b`),
  new RegExp(String.raw`\bolder\s+than\s+${UNIT}\b`),
]
const AGE_RECENT: RegExp[] = [
  new RegExp(
    String.raw`\b(?:(?:were|was|been)\s+)?(?:seen|active|used)\s+(?:in|within)\s+(?:the\s+)?(?:last|past)\s+${UNIT}\b`,
  ),
]

/** Straight quotes, single spaces, no trailing punctuation. */
function normalize(q: string): string {
  return q
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/\s+/g, ' ')
    .trim()
}

function days(amount: string, unit: string, notes: string[]): number {
  const n = Number(amount)
  const u = unit.toLowerCase()
  if (u.startsWith('week')) return n * 7
  if (u.startsWith('month')) {
    notes.push(`${n} ${plural(n, 'month', 'months')} read as ${n * 30} days.`)
    return n * 30
  }
  if (u.startsWith('year')) {
    notes.push(`${n} ${plural(n, 'year', 'years')} read as ${n * 365} days.`)
    return n * 365
  }
  return n
}
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many)

/** Cuts a device reference out of the original text: quotes and trailing words ("device", "?") removed. */
function deviceRef(raw: string): string | null {
  let v = raw
    .trim()
    .replace(/[?.!]+$/, '')
    .trim()
  v = v.replace(/^(?:the\s+)?(?:device|machine|computer|laptop|pc)\s+/i, '')
  v = v.replace(/\s+(?:device|machine|computer|laptop)$/i, '')
  const q = /^(["'`])(.+)\1$/.exec(v)
  if (q) v = q[2]!.trim()
  if (!v || /\s/.test(v)) return q && v ? v : null
  return v
}

/** `loose`: the pattern also reads ordinary phrases ("show me duplicates"), so the reference must look like a name or id. */
const EXPLAIN: [RegExp, 'strict' | 'loose'][] = [
  [
    /^why\s+(?:is|was|has|does)\s+(.+?)\s+(?:been\s+)?(?:flagged|listed|suggested|recommended|reported|included|in\s+the\s+(?:report|list|suggestions)|marked|a\s+candidate|on\s+the\s+list|skipped|undetermined|not\s+judged)(?:\s+(?:for\s+offboarding|as\s+\w+))?\??$/i,
    'strict',
  ],
  [/^why\s+(?:should|would|do)\s+(?:i|we|you)\s+(?:offboard|remove|delete|disable)\s+(.+?)\??$/i, 'strict'],
  [
    /^(?:explain|tell\s+me\s+about|show\s+me|show|details\s+(?:of|for|on)|what\s+about|what'?s\s+wrong\s+with|what\s+is\s+wrong\s+with)\s+(?:the\s+)?(?:device|suggestion)\s+(.+?)\??$/i,
    'strict',
  ],
  [
    /^(?:explain|tell\s+me\s+about|show\s+me|details\s+(?:of|for|on)|status\s+of|what'?s\s+wrong\s+with|what\s+is\s+wrong\s+with|what\s+is|what'?s|what\s+about)\s+(.+?)\??$/i,
    'loose',
  ],
]

const WHAT_IF: RegExp[] = [
  /^what\s+(?:happens|would\s+happen|will\s+happen)\s+(?:if|when)\s+(?:i|we|you|offboard)\s+(?:disable|disables)\s+(.+?)\??$/i,
  /^what\s+(?:would|will|does)\s+disabling\s+(.+?)\s+do\??$/i,
  /^(?:if\s+(?:i|we)\s+disable\s+(.+?),?\s+what\s+(?:happens|would\s+happen|will\s+happen)|what\s+are\s+the\s+(?:effects|consequences)\s+of\s+disabling\s+(.+?))\??$/i,
  /^(?:is\s+it\s+safe\s+to|can\s+i\s+safely)\s+disable\s+(.+?)\??$/i,
]

const WHAT_IF_OTHER =
  /^(?:what\s+(?:happens|would\s+happen|will\s+happen)\s+(?:if|when)\s+(?:i|we|you)\s+(delete|wipe|retire|offboard|remove|reset)|what\s+(?:would|will|does)\s+(deleting|wiping|retiring|offboarding|removing)\b)/i

const CHANGES =
  /\b(?:what(?:'s|\s+has|\s+have)?\s+changed|what'?s\s+new|changes?|difference|differences|diff|compare[ds]?|comparison|new\s+since|since\s+(?:the\s+)?(?:last|previous|prior)\s+run)\b/i

/** "… remove them from Entra": the steps asked for are those in one system. */
const SYSTEM_FOCUS =
  /\b(?:remove|delete|clean\s+up|offboard|get\s+rid\s+of|disable)\s+(?:them|these|those|it|the\s+devices|these\s+devices|the\s+objects)?\s*(?:properly\s+|correctly\s+|safely\s+)?(?:from|in)\s+(?:microsoft\s+)?(entra(?:\s+id)?|azure\s+ad|intune|autopilot|defender)\b/

const IMPERATIVE =
  /^(?:please\s+)?(?:disable|delete|wipe|retire|remove|offboard|purge|erase|reset|deregister|unassign|exclude|run|act\s+on|clean\s+up|get\s+rid\s+of|re-?enable|enable|assign|complete|close|mark)\b/i

/** Parses a question; pure and deterministic. */
export function parseQuestion(question: string): ParsedQuestion {
  const text = normalize(question)
  if (!/[\p{L}\p{N}]/u.test(text)) return { ok: false, reason: 'The question is empty.' }
  if (text.length > 2000)
    return { ok: false, reason: 'The question is longer than 2,000 characters; ask one thing at a time.' }

  for (const re of WHAT_IF) {
    const m = re.exec(text)
    const raw = m ? (m[1] ?? m[2]) : undefined
    if (!raw) continue
    const device = deviceRef(raw)
    if (device) return { ok: true, kind: 'whatIfDisable', params: { device }, notes: [] }
    return { ok: false, reason: `"${raw}" is not one device name or id; ask about one device at a time.` }
  }
  const other = WHAT_IF_OTHER.exec(text)
  if (other)
    return {
      ok: false,
      reason: `offboard explains what its own Entra disable does; for "${(other[1] ?? other[2])!.toLowerCase()}", each suggestion's plan lists the step with its instructions and warnings ('offboard suggestion show ID').`,
    }
  for (const [re, strictness] of EXPLAIN) {
    const m = re.exec(text)
    if (!m) continue
    const device = deviceRef(m[1]!)
    const quoted = /^\s*["'`]/.test(m[1]!)
    if (device && (strictness === 'strict' || quoted || /[\d_-]/.test(device)))
      return { ok: true, kind: 'explainDevice', params: { device }, notes: [] }
  }
  if (IMPERATIVE.test(text) && !/\b(?:steps|how|what|which|list|show)\b/i.test(text.split(/[.;]/)[0]!))
    return { ok: false, reason: ASK_NEVER_ACTS }

  const lower = text.toLowerCase().replace(/[?!]+/g, ' ')
  let rest = ` ${lower} `
  const take = (re: RegExp): RegExpExecArray | null => {
    const m = re.exec(rest)
    if (m) rest = `${rest.slice(0, m.index)} ${rest.slice(m.index + m[0].length)}`
    return m
  }
  const notes: string[] = []

  if (
    CHANGES.test(lower) &&
    /\b(?:run|runs|last\s+time|yesterday|before|previous|prior|changed|new)\b/.test(lower)
  ) {
    take(CHANGES)
    take(
      /\b(?:since|between|with|to)\s+(?:the\s+)?(?:last|previous|prior|two|latest)\s+(?:two\s+)?(?:runs?|time)\b/,
    )
    take(/\b(?:last|previous|prior)\s+(?:runs?|time)\b/)
    return finish('changesSinceLastRun', {}, rest, notes)
  }

  if (/\btasks?\b/.test(lower)) {
    take(/\btasks?\b/)
    let status: string | undefined
    if (take(/\bnot\s+(?:yet\s+)?started\b|\bto\s*-?\s*do\b|\bunstarted\b|\bpending\b/)) status = 'notStarted'
    else if (take(/\bin\s+progress\b|\bin-progress\b|\bongoing\b|\bbeing\s+worked\s+on\b|\bstarted\b/))
      status = 'inProgress'
    else if (take(/\bcompleted?\b|\bdone\b|\bfinished\b|\bclosed\b/)) status = 'completed'
    else if (take(/\bopen\b|\bunfinished\b|\bnot\s+(?:yet\s+)?(?:done|completed|finished)\b|\boutstanding\b/))
      status = 'open'
    take(/\b(?:status|state|assigned|by\s+status)\b/)
    return finish('tasksByStatus', status ? { status } : {}, rest, notes)
  }

  const skipWords = /\b(?:skipped|out\s+of\s+scope|out-of-scope|not\s+in\s+scope|ignored)\b/
  const skipReason = SKIP_PHRASES.find(([, re]) => re.test(lower))
  if (skipWords.test(lower) || skipReason) {
    take(skipWords)
    let reason: SkipReason | undefined
    if (skipReason) {
      reason = skipReason[0]
      take(skipReason[1])
    }
    take(/\b(?:why|reason|reasons|because)\b/)
    return finish('skippedDevices', reason ? { reason } : {}, rest, notes)
  }

  if (
    /\b(?:undetermined|(?:could|can)\s*(?:not|n't)\s+(?:be\s+)?(?:judged|evaluated|determined|assessed)|unknown\s+(?:status|state)|not\s+judged|unjudged)\b/.test(
      lower,
    )
  ) {
    take(
      /\b(?:undetermined|(?:could|can)\s*(?:not|n't)\s+(?:be\s+)?(?:judged|evaluated|determined|assessed)|unknown\s+(?:status|state)|not\s+judged|unjudged)\b/,
    )
    take(/\b(?:why|reason|reasons|because)\b/)
    return finish('undeterminedDevices', {}, rest, notes)
  }

  // Device filters: category, platform, ownership, severity, age.
  const params: Record<string, unknown> = {}
  const system = take(SYSTEM_FOCUS)
  if (system) {
    const word = system[1]!
    params.system = (word.startsWith('entra') || word.startsWith('azure') ? 'entra' : word) as ActionSystem
  }
  for (const re of AGE_OLDER) {
    const m = take(re)
    if (m) {
      params.inactiveMoreThanDays = days(m[1]!, m[2]!, notes)
      break
    }
  }
  for (const re of AGE_RECENT) {
    const m = take(re)
    if (m) {
      params.activeWithinDays = days(m[1]!, m[2]!, notes)
      break
    }
  }
  // "… might still exist in Microsoft Entra", "… but still in other portals": where the records are, not a filter.
  take(
    /\b(?:(?:might|may|could)\s+)?still\s+(?:exist|be|are|remain|live|present)?\s*in\s+(?:microsoft\s+)?(?:entra(?:\s+id)?|azure\s+ad|other\s+portals|defender|autopilot)\b/,
  )
  const categories = CATEGORY_PHRASES.filter(([, re]) => take(re)).map(([c]) => c)
  if (categories.length > 1)
    return {
      ok: false,
      reason: `The question names several categories (${categories.join(', ')}); ask about one at a time, or ask for a count per category.`,
    }
  if (categories[0]) params.category = categories[0]
  const platforms = PLATFORM_PHRASES.filter(([, re]) => take(re)).map(([p]) => p)
  if (platforms.length > 1)
    return {
      ok: false,
      reason: `The question names several platforms (${platforms.join(', ')}); ask about one at a time, or ask for a count per platform.`,
    }
  if (platforms[0]) params.platform = platforms[0]
  const owners = OWNERSHIP_PHRASES.filter(([, re]) => take(re)).map(([o]) => o)
  if (owners.length > 1)
    return { ok: false, reason: 'The question names both personal and corporate devices; ask about one.' }
  if (owners[0]) params.ownership = owners[0]
  const sev = take(SEVERITY_PHRASE)
  if (sev) params.severity = (sev[1] ?? sev[2]) as Severity

  const count = take(/\bhow\s+many\b|\bnumber\s+of\b|\bcount\b|\bhow\s+much\b|\btotal\b/)
  if (count) {
    const by = take(
      /\b(?:per|by|for\s+each|each|broken\s+down\s+by|breakdown\s+by|grouped\s+by|in\s+each)\s+(category|categories|platform|platforms|os|ownership|owner|severity|severities)\b/,
    )
    if (by) {
      const w = by[1]!
      params.by = w.startsWith('categor')
        ? 'category'
        : w.startsWith('platform') || w === 'os'
          ? 'platform'
          : w.startsWith('owner')
            ? 'ownership'
            : 'severity'
    }
    delete params.system
    return finish('countDevices', params, rest, notes)
  }

  const filtered = Object.keys(params).some((k) => k !== 'system')
  if (
    !filtered &&
    /\b(?:summar(?:y|ise|ize)|overview|recap|what\s+did\s+(?:the\s+)?(?:run|offboard|agent)\s+find|how\s+(?:is|does)\s+(?:the\s+)?(?:tenant|fleet)\s+(?:look|doing))\b/.test(
      lower,
    )
  ) {
    take(
      /\b(?:summar(?:y|ise|ize)|overview|recap|what\s+did\s+(?:the\s+)?(?:run|offboard|agent)\s+find|how\s+(?:is|does)\s+(?:the\s+)?(?:tenant|fleet)\s+(?:look|doing))\b/,
    )
    return finish('summary', {}, rest, notes)
  }
  if (!filtered && !/\b(?:devices?|machines?|computers?|candidates?|suggestions?)\b/.test(lower))
    return { ok: false, reason: 'offboard could not tell what this question asks about.' }
  take(/\b(?:suggestions?|why|severity)\b/)
  return finish('listDevices', params, rest, notes)
}

/** Accepts the parse only when every remaining word is filler: an unplaced word might change the meaning. */
function finish(
  kind: QueryKind,
  params: Record<string, unknown>,
  rest: string,
  notes: string[],
): ParsedQuestion {
  const unknown = rest
    .replace(/["'`,.;:()\-/]/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !FILLER.has(w))
  if (unknown.length)
    return {
      ok: false,
      reason: `offboard does not know what ${unknown
        .slice(0, 4)
        .map((w) => `"${w}"`)
        .join(', ')} ${unknown.length === 1 ? 'means' : 'mean'} in this question, and does not guess.`,
    }
  return { ok: true, kind, params, notes }
}
