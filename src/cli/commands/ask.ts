/**
 * @module `offboard ask "QUESTION"`: plain-language questions about the latest run, answered offline and
 * deterministically, or by a configured language model that calls the same queries. Never changes anything.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { type Command, Option } from 'commander'
import { tenantOption, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, resolveTenant, storeOpener, withStore } from '../../agent/context.js'
import { Report } from '../../domain/report.js'
import type { Answer } from '../../language/answer.js'
import type { AskData } from '../../language/ask-data.js'
import { LLM_ENV } from '../../language/llm-config.js'
import { InputError, UsageError } from '../../lib/errors.js'
import { describeJsonError } from '../../snapshot/read-collection.js'

interface AskOptions {
  tenant?: string
  report?: string
  previous?: string
  format?: 'text' | 'json'
  /** false with --no-llm. */
  llm: boolean
}

export function registerAsk(program: Command, deps: CommandDeps = {}): void {
  const write = writerOf(deps)
  const env = deps.env ?? process.env
  const open = storeOpener(deps)
  program
    .command('ask')
    .summary('answer a plain-language question about the latest run (never changes anything)')
    .description(
      "Answers questions about the tenant's latest completed run — or a report file — in the form of Microsoft's " +
        'agent: a summary line, the factors, the steps, and the devices. Offline and deterministic by default; a ' +
        'question it cannot answer gets the list of what it can answer, never a guess.',
    )
    .argument('<question...>', 'the question (quote it, or write it after the options)')
    .addOption(tenantOption())
    .option(
      '--report <file>',
      'answer from a report file (offboard run --format json -o FILE) instead of the store',
    )
    .option('--previous <file>', 'with --report: the earlier report, for "what changed since the last run"')
    .addOption(
      new Option('--format <format>', 'output format (default: text on a terminal, json otherwise)').choices([
        'text',
        'json',
      ]),
    )
    .option(
      '--no-llm',
      `answer with the deterministic engine even when a language model is configured (${LLM_ENV.baseUrl})`,
    )
    .addHelpText(
      'after',
      `
Examples:
  offboard ask "Find all devices that were removed from Intune but might still exist in Microsoft Entra. Provide steps to properly remove them from Entra."
  offboard ask "Which Windows devices have been inactive for more than 180 days?"
  offboard ask "How many devices per category?" --format json
  offboard ask "Why is LT-0107 flagged?"
  offboard ask "What happens if I disable LT-0107?"
  offboard ask "What changed since the last run?"
  offboard ask "Which tasks are in progress?"
  offboard ask --report report.json "Which devices were skipped?"

With ${LLM_ENV.baseUrl}, ${LLM_ENV.model} and ${LLM_ENV.apiKey} set (any OpenAI-compatible chat-completions
endpoint: Azure OpenAI, OpenAI, a local Ollama), the model answers by calling offboard's queries; its answer is
used only when it is well-formed and cites only device ids those queries returned, else the deterministic
engine answers and says why. Tenant data goes to that endpoint: configure one you trust with it.`,
    )
    .action(async (words: string[], opts: AskOptions) => {
      const question = words.join(' ').trim()
      if (!question)
        throw new UsageError('ask needs a question, e.g. offboard ask "Which devices are stale?"')
      if (opts.previous && !opts.report) throw new UsageError('--previous only applies with --report.')
      if (opts.report && opts.tenant)
        throw new UsageError('--tenant does not apply with --report: the file names its tenant.')
      const data = opts.report
        ? (await import('../../language/ask-data.js')).askDataFromReport(
            await readReport(opts.report),
            opts.previous ? await readReport(opts.previous) : undefined,
          )
        : await withStore(open, async (store) =>
            (await import('../../agent/ask-source.js')).loadAskData(
              store,
              actorOf(deps),
              await resolveTenant(store, opts.tenant, env),
            ),
          )
      const answer = await answerWith(question, data, opts.llm, env)
      const format = opts.format ?? (process.stdout.isTTY ? 'text' : 'json')
      const { renderAnswerText } = await import('../../language/answer.js')
      await write(format === 'json' ? `${JSON.stringify(answer, null, 2)}\n` : renderAnswerText(answer))
    })
}

async function answerWith(
  question: string,
  data: AskData,
  useLlm: boolean,
  env: NodeJS.ProcessEnv,
): Promise<Answer> {
  const llm = await import('../../language/llm.js')
  const config = useLlm ? llm.llmConfigFromEnv(env) : null
  if (config) return llm.answerWithLlm(question, data, config)
  return (await import('../../language/ask.js')).answerQuestion(question, data)
}

/** @throws InputError naming the file and the field that does not fit the report contract. */
async function readReport(path: string): Promise<Report> {
  const name = basename(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(name, [{ problem: `cannot read the report file: ${(err as Error).message}` }])
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new InputError(
      name,
      [{ problem: describeJsonError(err, text) }],
      'Write the report with offboard run --format json -o FILE.',
    )
  }
  const parsed = Report.safeParse(doc)
  if (!parsed.success)
    throw new InputError(
      name,
      parsed.error.issues
        .slice(0, 5)
        .map((i) => ({ field: i.path.join('.') || undefined, problem: i.message })),
      'This is not an offboard report; write one with offboard run --format json -o FILE.',
      parsed.error.issues.length,
    )
  return parsed.data
}
