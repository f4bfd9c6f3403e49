/**
 * @module A local HTTP server speaking OpenAI's chat-completions protocol from a script, for tests of the
 * language-model path: each POST /v1/chat/completions gets the next scripted reply (tool calls, a final answer,
 * a 429 with Retry-After, a malformed body), and every request is recorded.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ScriptedReply {
  status?: number
  headers?: Record<string, string>
  /** A JSON value, or raw text (sent as is) for malformed replies. */
  body: unknown
}

export interface RecordedRequest {
  path: string
  headers: IncomingHttpHeaders
  body: {
    model: string
    messages: { role: string; content: string | null; tool_call_id?: string }[]
    tools: { function: { name: string } }[]
  }
}

export interface ChatServer {
  baseUrl: string
  requests: RecordedRequest[]
  close(): Promise<void>
}

/** A chat-completions reply that calls tools. */
export function toolCalls(...calls: { name: string; args: unknown; id?: string }[]): ScriptedReply {
  return {
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((c, i) => ({
              id: c.id ?? `call_${i}`,
              type: 'function',
              function: {
                name: c.name,
                arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args),
              },
            })),
          },
        },
      ],
    },
  }
}

/** A chat-completions reply with final text content. */
export function finalText(content: string): ScriptedReply {
  return {
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
    },
  }
}

export async function startChatServer(script: ScriptedReply[]): Promise<ChatServer> {
  const requests: RecordedRequest[] = []
  let next = 0
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => {
      raw += c
    })
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }))
        return
      }
      requests.push({ path: req.url, headers: req.headers, body: JSON.parse(raw) })
      const reply = script[next++] ?? {
        status: 500,
        body: { error: { message: 'the script has no more replies' } },
      }
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
