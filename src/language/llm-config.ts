/**
 * @module The optional language model's configuration, from the environment only (the key is a secret). Kept
 * apart from the model client so that commands can name the variables without loading it.
 */
import { ConfigError } from '../lib/errors.js'

export const LLM_ENV = {
  baseUrl: 'OFFBOARD_LLM_BASE_URL',
  model: 'OFFBOARD_LLM_MODEL',
  /** Secret: environment only, never a config file or the store. */
  apiKey: 'OFFBOARD_LLM_API_KEY',
} as const

export interface LlmConfig {
  baseUrl: string
  model: string
  apiKey: string | null
}

const isLoopback = (host: string) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(host)

/**
 * The language model configured by the environment, or null when none is.
 * @throws ConfigError when it is configured only in part.
 */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig | null {
  const baseUrl = env[LLM_ENV.baseUrl]?.trim() || undefined
  const model = env[LLM_ENV.model]?.trim() || undefined
  const apiKey = env[LLM_ENV.apiKey] || null
  if (!baseUrl && !model) return null
  if (!baseUrl || !model)
    throw new ConfigError(
      `the language model is configured in part: set both ${LLM_ENV.baseUrl} and ${LLM_ENV.model} (and ${LLM_ENV.apiKey}), or neither.`,
    )
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new ConfigError(
      `${LLM_ENV.baseUrl} is not a URL: ${JSON.stringify(baseUrl)}.`,
      'e.g. https://api.openai.com/v1',
    )
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
    throw new ConfigError(
      `${LLM_ENV.baseUrl} must use https (plain http only to this machine), got ${url.origin}.`,
      'The questions and the tenant data sent to the model would otherwise cross the network unencrypted.',
    )
  if (!apiKey && !isLoopback(url.hostname))
    throw new ConfigError(
      `${LLM_ENV.apiKey} is not set for the language model at ${url.origin}.`,
      'A local model (localhost) needs no key.',
    )
  return { baseUrl, model, apiKey }
}
