/**
 * @module Structured logs on stderr (pino): `module.function` plus a stable event name. Off unless
 * OFFBOARD_LOG_LEVEL (or --debug) asks for them; secrets and tokens are redacted.
 */
import { type Logger, pino } from 'pino'

export type { Logger }

let root: Logger | undefined

/** The process logger; level from OFFBOARD_LOG_LEVEL (default "silent"). */
export function logger(): Logger {
  root ??= pino(
    {
      level: process.env.OFFBOARD_LOG_LEVEL ?? 'silent',
      base: undefined,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'clientSecret',
          'client_secret',
          'access_token',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  )
  return root
}

/** Turns debug logs on for this process (`--debug`). */
export function enableDebugLogs(): void {
  logger().level = 'debug'
}
