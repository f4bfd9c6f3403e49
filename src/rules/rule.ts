/** @module The rule contract: one typed object holds a rule's metadata and its pure `evaluate`, validated at load. */
import { z } from 'zod'
import type { AnyRecord, DeviceView, SourceName } from '../domain/device.js'
import { SourceName as SourceNameSchema } from '../domain/device.js'
import { Category, type Evidence, Severity, type UnknownReason } from '../domain/report.js'
import { flatten } from '../domain/text.js'

/** What a rule concluded about one device. "Could not judge" is an answer; a guess is not. */
export type Outcome =
  | {
      kind: 'flag'
      message: string
      evidence: Evidence[]
      /** Records the plan acts on; the rule decides (a duplicate targets only the superseded record). */
      targets: AnyRecord[]
    }
  | { kind: 'pass'; message: string }
  | { kind: 'notApplicable'; reason: string }
  | { kind: 'unknown'; reason: UnknownReason; detail: string }

/** What a finding says, shows and acts on. */
export interface FlagDetail {
  message: string
  evidence: Evidence[]
  /** Records the plan acts on; the rule decides (a duplicate targets only the superseded record). */
  targets: AnyRecord[]
}

/**
 * A finding. Its message is kept until the report is written, so it is stored flat (`flatten`). A rule gives its
 * detail as a function, called when the detail is first read: a run first evaluates every device for its verdict
 * alone, then only the devices the report names again for their detail (`evaluateTenant`), so the first pass's
 * messages and evidence, one set per flagged device (200,000 at a million devices), were built to be dropped.
 */
export function flag(detail: () => FlagDetail): Outcome
export function flag(message: string, evidence: Evidence[], targets: AnyRecord[]): Outcome
export function flag(
  message: string | (() => FlagDetail),
  evidence?: Evidence[],
  targets?: AnyRecord[],
): Outcome {
  if (typeof message === 'function') return new LazyFlag(message)
  return { kind: 'flag', message: flatten(message), evidence: evidence!, targets: targets! }
}

/**
 * A finding whose detail is built when first read. A class, not an object literal with getters: V8 builds such a
 * literal through its slow path, which made evaluation of a million devices slower (3.6-4.2 → 5.5-6.4 s) and
 * heavier (+0.4-0.8 GB) than building every message eagerly.
 */
class LazyFlag {
  readonly kind = 'flag'
  #make: (() => FlagDetail) | null
  #detail: FlagDetail | null = null
  constructor(make: () => FlagDetail) {
    this.#make = make
  }
  get message(): string {
    return this.#read().message
  }
  get evidence(): Evidence[] {
    return this.#read().evidence
  }
  get targets(): AnyRecord[] {
    return this.#read().targets
  }
  #read(): FlagDetail {
    if (this.#detail === null) {
      this.#detail = this.#make!()
      // Flattened in place: the detail keeps the same string.
      flatten(this.#detail.message)
      this.#make = null
    }
    return this.#detail
  }
}

/**
 * A pass. A computed message is given as a function, called when the message is first read: a run reads no pass
 * message (the report lists findings), and at a million devices building them was a tenth of evaluation.
 */
export function pass(message: string | (() => string)): Outcome {
  return typeof message === 'string' ? { kind: 'pass', message } : new LazyPass(message)
}

/** A pass whose message is built on first read (a class: an object literal with a getter costs more per pass). */
class LazyPass {
  readonly kind = 'pass'
  #make: (() => string) | null
  #text = ''
  constructor(make: () => string) {
    this.#make = make
  }
  get message(): string {
    if (this.#make !== null) {
      this.#text = this.#make()
      this.#make = null
    }
    return this.#text
  }
}
/** Shared between devices (below): rules give a fixed reason, never device data. */
export function notApplicable(reason: string): Outcome {
  let outcome = NOT_APPLICABLE.get(reason)
  if (outcome === undefined) {
    outcome = { kind: 'notApplicable', reason }
    if (NOT_APPLICABLE.size < SHARED_LIMIT) NOT_APPLICABLE.set(reason, outcome)
  }
  return outcome
}

/**
 * "Not applicable" outcomes are shared between devices: every device keeps its results until the report is built,
 * most of them are "not applicable" with a constant reason, and at a million devices one object per (device, rule)
 * is a large part of the heap. Outcomes are never mutated (the engine replaces, never edits, them). Bounded, in case
 * a caller builds reasons from device data.
 */
const SHARED_LIMIT = 1000
const NOT_APPLICABLE = new Map<string, Outcome>()
export const unknown = (reason: UnknownReason, detail: string): Outcome => ({
  kind: 'unknown',
  reason,
  detail: flatten(detail),
})

/** What a source looks like to the rules: connected or not, and whether its absence can be trusted. */
export interface SourceState {
  status: 'ok' | 'missing' | 'error'
  /** False when the coverage brake tripped: "no record here" proves nothing. */
  trusted: boolean
}
export type SourceStates = Record<SourceName, SourceState>

/**
 * What a rule sees besides the device. No source states: which sources a rule relies on is declared (`needs`,
 * `observes`) and enforced by the engine, after every device was seen (the coverage brake needs them all).
 */
export interface RuleContext<P> {
  params: P
  /** Evaluation instant (epoch ms): `--as-of`, else the snapshot's `takenAt`, else now. Rules never read the clock. */
  now: number
}

export interface RuleDefinition<P extends z.ZodType = z.ZodType> {
  /** Equals the file name; never renamed (add `aliases`). */
  id: string
  aliases?: string[]
  /** States the finding, not "Check …". */
  title: string
  category: Category
  severity: Severity
  /**
   * Sources whose *absence of a record* the rule relies on: a flag while one of them is missing, failed or
   * untrusted (coverage brake) becomes `unknown` — enforced by the engine, not by each rule.
   */
  needs: SourceName[]
  /**
   * Sources whose activity the rule weighs: a flag while one of them failed to load becomes `unknown`,
   * since the failed source might have shown the device in use. A source that is simply not connected is fine.
   */
  observes: SourceName[]
  params: P
  rationale: string
  remediation: string[]
  references: string[]
  evaluate(view: DeviceView, ctx: RuleContext<z.infer<P>>): Outcome
}

const RuleMeta = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'rule ids are kebab-case'),
  aliases: z.array(z.string()).optional(),
  title: z
    .string()
    .min(10)
    .refine((t) => !/^(check|ensure|verify)\b/i.test(t), 'a title states the finding, not "Check …"'),
  category: Category,
  severity: Severity,
  needs: z.array(SourceNameSchema),
  observes: z.array(SourceNameSchema),
  rationale: z.string().min(20),
  remediation: z.array(z.string().min(1)).min(1),
  references: z.array(z.string().url()).min(1),
})

/**
 * Declares a rule; malformed metadata fails at start-up, and the params schema must accept `{}` (all defaults).
 * @throws Error naming the rule and the bad field.
 */
export function defineRule<P extends z.ZodType>(def: RuleDefinition<P>): RuleDefinition<P> {
  const meta = RuleMeta.safeParse(def)
  if (!meta.success) {
    const issue = meta.error.issues[0]!
    throw new Error(`rule "${def.id}": metadata field "${issue.path.join('.')}" is invalid: ${issue.message}`)
  }
  const defaults = def.params.safeParse({})
  if (!defaults.success) throw new Error(`rule "${def.id}": params need a default for every field`)
  return def
}
