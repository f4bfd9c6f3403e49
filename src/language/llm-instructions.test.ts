/** @module Tests of instructions through a scripted chat-completions server: a narrowing proposal is used; anything else falls back. */
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, Policy } from '../domain/policy.js'
import { interpretInstructionsWithLlm, wideningProblems } from './llm-instructions.js'
import { type ChatServer, type ScriptedReply, startChatServer, toolCalls } from './test-chat-server.js'

let server: ChatServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

const TEXT =
  'Exclude devices whose name starts with LAB-. Treat devices inactive for more than 60 days as stale.'
const SENTENCES = [
  'Exclude devices whose name starts with LAB-',
  'Treat devices inactive for more than 60 days as stale',
]

const proposal = (
  policy: unknown,
  sentences: unknown = [
    { sentence: SENTENCES[0], effect: 'Skips devices whose name starts with LAB-.' },
    { sentence: SENTENCES[1], effect: 'Sets the threshold to 60 days.' },
  ],
) => toolCalls({ name: 'proposePolicy', args: { policy, sentences } })

const narrowed = { ...DEFAULT_POLICY, staleAfterDays: 60, exclude: [{ field: 'name', pattern: 'LAB-*' }] }

async function interpret(script: ScriptedReply[], base = DEFAULT_POLICY, text = TEXT) {
  server = await startChatServer(script)
  return interpretInstructionsWithLlm(text, { baseUrl: server.baseUrl, model: 'm', apiKey: 'k' }, base, {
    sleep: async () => {},
  })
}

describe('interpretInstructionsWithLlm', () => {
  it('uses a proposal that only narrows and accounts for every sentence', async () => {
    const r = await interpret([proposal(narrowed)])
    expect(r.engine).toBe('llm')
    expect(r.warnings).toEqual([])
    expect(r.interpretation.policy.exclude).toEqual([{ field: 'name', pattern: 'LAB-*' }])
    expect(r.interpretation.policy.staleAfterDays).toBe(60)
    expect(r.interpretation.applied.map((a) => a.sentence)).toEqual(SENTENCES)
    const tool = (
      server!.requests[0]!.body.tools[0] as unknown as {
        function: { name: string; parameters: { properties: object } }
      }
    ).function
    expect(tool.name).toBe('proposePolicy')
    expect(Object.keys(tool.parameters.properties)).toEqual(['policy', 'sentences'])
  })

  it.each([
    [
      'adds an opt-in operation',
      { ...narrowed, optIn: ['intune.delete'] },
      /adds opt-in operations \(intune\.delete\)/,
    ],
    [
      'changes the brakes',
      { ...narrowed, brakes: { minImpliedRecords: 1000, minMatchShare: 0 } },
      /changes the brakes/,
    ],
    ['shortens the grace period', { ...narrowed, entraDeleteGraceDays: 1 }, /grace period is below 30 days/],
    [
      'turns off a rule that does not exist',
      { ...narrowed, disabledRules: ['no-such-rule'] },
      /do not exist \(no-such-rule\)/,
    ],
    [
      'sets a threshold below the minimum',
      { ...narrowed, staleAfterDays: 7 },
      /does not fit the policy schema \(policy\.staleAfterDays/,
    ],
  ])('falls back to the deterministic interpreter when the proposal %s', async (_what, policy, why) => {
    const r = await interpret([proposal(policy)])
    expect(r.engine).toBe('deterministic')
    expect(r.warnings[0]).toMatch(why)
    // The deterministic reading of the same text.
    expect(r.interpretation.policy.exclude.map((e) => e.pattern)).toEqual(['LAB-*'])
    expect(r.interpretation.policy.optIn).toEqual([])
  })

  it('falls back when an exclusion of the base policy would be removed', async () => {
    const base = Policy.parse({ exclude: [{ field: 'groupTag', pattern: 'Finance' }] })
    const r = await interpret([proposal(narrowed)], base)
    expect(r.engine).toBe('deterministic')
    expect(r.warnings[0]).toMatch(/removes exclusions \(groupTag Finance\)/)
    expect(r.interpretation.policy.exclude.map((e) => e.pattern)).toEqual(['Finance', 'LAB-*'])
  })

  it('falls back when a sentence is dropped or reworded', async () => {
    const dropped = await interpret([proposal(narrowed, [{ sentence: SENTENCES[0], effect: 'x' }])])
    expect(dropped.warnings[0]).toMatch(/account for each sentence/)
    const reworded = await interpret([
      proposal(narrowed, [
        { sentence: 'Exclude lab devices', effect: 'x' },
        { sentence: SENTENCES[1], effect: 'y' },
      ]),
    ])
    expect(reworded.engine).toBe('deterministic')
  })

  it('falls back when the model does not call the tool, or fails', async () => {
    const none = await interpret([
      { body: { choices: [{ message: { role: 'assistant', content: 'Done!' } }] } },
    ])
    expect(none.warnings[0]).toMatch(/did not call proposePolicy/)
    const failing = await interpret(
      Array.from({ length: 4 }, () => ({ status: 500, body: { error: { message: 'boom' } } })),
    )
    expect(failing.engine).toBe('deterministic')
    expect(failing.warnings[0]).toMatch(/could not be used/)
  })

  it('keeps a refusal the model reports as a refusal', async () => {
    const text = 'Exclude devices whose name starts with LAB-. Delete everything older than a year.'
    const r = await interpret(
      [
        proposal({ ...DEFAULT_POLICY, exclude: [{ field: 'name', pattern: 'LAB-*' }] }, [
          { sentence: 'Exclude devices whose name starts with LAB-', effect: 'Skips LAB- devices.' },
          {
            sentence: 'Delete everything older than a year',
            refused: 'Instructions never widen destructive actions.',
          },
        ]),
      ],
      DEFAULT_POLICY,
      text,
    )
    expect(r.engine).toBe('llm')
    expect(r.interpretation.refused).toEqual([
      {
        index: 1,
        sentence: 'Delete everything older than a year',
        reason: 'Instructions never widen destructive actions.',
      },
    ])
  })
})

describe('wideningProblems', () => {
  it('accepts narrowing: more exclusions, rules off, a longer grace period, any threshold of at least 30 days', () => {
    expect(
      wideningProblems(DEFAULT_POLICY, {
        ...DEFAULT_POLICY,
        staleAfterDays: 30,
        entraDeleteGraceDays: 60,
        disabledRules: ['stale-everywhere'],
        exclude: [{ field: 'ownership', pattern: 'personal' }],
      }),
    ).toEqual([])
  })

  it('names each widening', () => {
    const base = Policy.parse({ disabledRules: ['stale-everywhere'], optIn: ['intune.retire'] })
    expect(wideningProblems(base, { ...DEFAULT_POLICY, optIn: ['intune.retire', 'entra.delete'] })).toEqual([
      'it adds opt-in operations (entra.delete)',
      'it turns rules back on (stale-everywhere)',
    ])
  })
})
