/**
 * @module Tests of the language-model path against a local chat-completions server with scripted tool calls:
 * tools map onto the queries, throttling is retried, and malformed or ungrounded answers fall back to the
 * deterministic engine with a note saying why.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Report } from '../domain/report.js'
import { ConfigError } from '../lib/errors.js'
import { QueryKind } from './answer.js'
import { askDataFromReport } from './ask-data.js'
import { answerWithLlm, LLM_ENV, llmConfigFromEnv, MAX_LLM_ROUNDS } from './llm.js'
import {
  type ChatServer,
  finalText,
  type ScriptedReply,
  startChatServer,
  toolCalls,
} from './test-chat-server.js'
import { demoReport } from './test-support.js'

let report: Report
beforeAll(async () => {
  report = await demoReport()
}, 60_000)

let server: ChatServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

const QUESTION = 'Which devices were removed from Intune?'
const KEY = 'test-key-not-a-secret'

async function askWith(script: ScriptedReply[], question = QUESTION, waits: number[] = []) {
  server = await startChatServer(script)
  return answerWithLlm(
    question,
    askDataFromReport(report),
    { baseUrl: server.baseUrl, model: 'test-model', apiKey: KEY },
    {
      sleep: async (ms) => {
        waits.push(ms)
      },
    },
  )
}

const removed = () => report.suggestions.filter((s) => s.category === 'removedFromIntune')
const final = (o: object) => finalText(JSON.stringify(o))

describe('answerWithLlm', () => {
  it('runs the tool the model calls and answers with the devices it cites, taken from the query', async () => {
    const [a, b] = removed()
    const answer = await askWith([
      toolCalls({ name: 'listDevices', args: { category: 'removedFromIntune' } }),
      final({
        summary: `There are ${removed().length} devices that are no longer in Intune but still in other portals.`,
        factors: ['Cannot enforce compliance policies or data protection.'],
        steps: ['Disable them in Entra.'],
        deviceIds: [a!.id, b!.device.ids.entraObjectId],
      }),
    ])
    expect(answer.engine).toBe('llm')
    expect(answer.query).toBe('listDevices')
    expect(answer.params).toEqual({ category: 'removedFromIntune' })
    expect(answer.summary).toContain(`There are ${removed().length} devices`)
    expect(answer.devices.map((d) => d.suggestionId)).toEqual([a!.id, b!.id])
    // The devices are offboard's, not the model's words.
    expect(answer.devices[0]!.reason).toBe(a!.rationale)

    const [first, second] = server!.requests
    expect(first!.headers.authorization).toBe(`Bearer ${KEY}`)
    expect(first!.body.model).toBe('test-model')
    expect(first!.body.tools.map((t) => t.function.name)).toEqual(QueryKind.options)
    expect(first!.body.messages.at(-1)).toMatchObject({ role: 'user', content: QUESTION })
    const toolMessage = second!.body.messages.find((m) => m.role === 'tool')!
    expect(toolMessage.tool_call_id).toBe('call_0')
    expect(JSON.parse(toolMessage.content!).totalDevices).toBe(removed().length)
  })

  it('retries a 429 after its Retry-After, through the one HTTP client', async () => {
    const waits: number[] = []
    const answer = await askWith(
      [
        {
          status: 429,
          headers: { 'retry-after': '2' },
          body: { error: { code: '429', message: 'Rate limit reached' } },
        },
        toolCalls({ name: 'countDevices', args: { by: 'category' } }),
        final({ summary: `There are ${report.suggestions.length} flagged devices.` }),
      ],
      'How many devices per category?',
      waits,
    )
    expect(waits).toEqual([2000])
    expect(server!.requests).toHaveLength(3)
    expect(answer.engine).toBe('llm')
    expect(answer.counts).toMatchObject({ removedFromIntune: removed().length })
  })

  it('falls back to the deterministic answer when the reply is not a chat completion', async () => {
    const answer = await askWith([{ body: { unexpected: true } }])
    expect(answer.engine).toBe('deterministic')
    expect(answer.devices).toHaveLength(removed().length)
    expect(answer.notes[0]).toMatch(/language model's answer was not used: .*not a chat-completions response/)
  })

  it('falls back when the final answer is not the JSON object asked for', async () => {
    const answer = await askWith([
      toolCalls({ name: 'listDevices', args: { category: 'removedFromIntune' } }),
      finalText('Sure! There are lots of devices.'),
    ])
    expect(answer.engine).toBe('deterministic')
    expect(answer.notes[0]).toMatch(/not the JSON object asked for/)
  })

  it('rejects an answer that cites a device id no query returned (a hallucination)', async () => {
    const invented = 'sg-00000000deadbeef'
    const answer = await askWith([
      toolCalls({ name: 'listDevices', args: { category: 'removedFromIntune' } }),
      final({ summary: 'There is 1 device to remove.', deviceIds: [invented] }),
    ])
    expect(answer.engine).toBe('deterministic')
    expect(answer.notes[0]).toContain(invented)
    expect(answer.devices.map((d) => d.suggestionId)).not.toContain(invented)
  })

  it('rejects an id slipped into the prose, too', async () => {
    const answer = await askWith([
      toolCalls({ name: 'listDevices', args: { category: 'stale' } }),
      final({ summary: 'Remove 11111111-2222-4333-8444-555555555555 first.', deviceIds: [] }),
    ])
    expect(answer.engine).toBe('deterministic')
    expect(answer.notes[0]).toContain('11111111-2222-4333-8444-555555555555')
  })

  it('sends invalid tool arguments back to the model as a tool error, and goes on', async () => {
    const answer = await askWith([
      toolCalls(
        { name: 'listDevices', args: { category: 'everything', colour: 'red' } },
        { name: 'dropTables', args: {}, id: 'call_x' },
      ),
      toolCalls({ name: 'listDevices', args: '{"category": "removedFromIntune"' }),
      toolCalls({ name: 'listDevices', args: { category: 'removedFromIntune' } }),
      final({ summary: 'There are devices no longer in Intune.', deviceIds: [removed()[0]!.id] }),
    ])
    // Each request carries the whole conversation: the last one holds every tool result.
    const tools = server!.requests.at(-1)!.body.messages.filter((m) => m.role === 'tool')
    expect(JSON.parse(tools[0]!.content!).error).toMatch(/invalid arguments/)
    expect(JSON.parse(tools[1]!.content!).error).toMatch(/unknown tool "dropTables"/)
    expect(JSON.parse(tools[2]!.content!).error).toMatch(/not valid JSON/)
    expect(answer.engine).toBe('llm')
    expect(answer.devices).toHaveLength(1)
  })

  it('does not accept an answer given without consulting any query', async () => {
    const answer = await askWith([final({ summary: 'There are 3 devices to remove.' })])
    expect(answer.engine).toBe('deterministic')
    expect(answer.notes[0]).toMatch(/without consulting any of offboard's queries/)
  })

  it('stops a model that keeps calling tools', async () => {
    const loop = Array.from({ length: MAX_LLM_ROUNDS + 2 }, () => toolCalls({ name: 'summary', args: {} }))
    const answer = await askWith(loop)
    expect(server!.requests).toHaveLength(MAX_LLM_ROUNDS)
    expect(answer.engine).toBe('deterministic')
    expect(answer.notes[0]).toMatch(new RegExp(`did not finish within ${MAX_LLM_ROUNDS} turns`))
  })

  it('falls back, saying so, when the endpoint keeps failing', async () => {
    const failing = Array.from({ length: 4 }, () => ({
      status: 503,
      body: { error: { message: 'overloaded' } },
    }))
    const answer = await askWith(failing)
    expect(answer.engine).toBe('deterministic')
    expect(answer.notes[0]).toMatch(/could not be used .*503/)
    expect(answer.devices).toHaveLength(removed().length)
  })

  it('keeps a refusal a refusal when the model fails', async () => {
    const answer = await askWith(
      [{ body: 'not json at all' }, { body: 'still not json' }, { body: '{' }, { body: '' }],
      "What's the weather?",
    )
    expect(answer.answered).toBe(false)
    expect(answer.canAnswer.length).toBeGreaterThan(0)
  })
})

describe('llmConfigFromEnv', () => {
  it('is off when nothing is set', () => {
    expect(llmConfigFromEnv({})).toBeNull()
  })

  it.each([
    [{ [LLM_ENV.baseUrl]: 'https://api.openai.com/v1' }, /configured in part/],
    [{ [LLM_ENV.model]: 'gpt-4o' }, /configured in part/],
    [{ [LLM_ENV.baseUrl]: 'not a url', [LLM_ENV.model]: 'm', [LLM_ENV.apiKey]: 'k' }, /not a URL/],
    [
      { [LLM_ENV.baseUrl]: 'http://llm.example.com/v1', [LLM_ENV.model]: 'm', [LLM_ENV.apiKey]: 'k' },
      /must use https/,
    ],
    [
      { [LLM_ENV.baseUrl]: 'https://api.openai.com/v1', [LLM_ENV.model]: 'gpt-4o' },
      /OFFBOARD_LLM_API_KEY is not set/,
    ],
  ])('refuses a partial or unsafe configuration %#', (env, message) => {
    expect(() => llmConfigFromEnv(env)).toThrow(ConfigError)
    expect(() => llmConfigFromEnv(env)).toThrow(message)
  })

  it('accepts a local model without a key, and a remote one with a key', () => {
    expect(
      llmConfigFromEnv({ [LLM_ENV.baseUrl]: 'http://localhost:11434/v1', [LLM_ENV.model]: 'llama3.1' }),
    ).toEqual({
      baseUrl: 'http://localhost:11434/v1',
      model: 'llama3.1',
      apiKey: null,
    })
    expect(
      llmConfigFromEnv({
        [LLM_ENV.baseUrl]: 'https://x.openai.azure.com/openai/v1',
        [LLM_ENV.model]: 'gpt-4o',
        [LLM_ENV.apiKey]: 'k',
      })?.apiKey,
    ).toBe('k')
  })
})
