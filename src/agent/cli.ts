/** @module Pieces shared by the agent's commands: the output format option, the tenant option, and writing output. */
import { Option } from 'commander'
import { writeStdout } from '../cli/output.js'
import type { CommandDeps } from './context.js'

export type OutputFormat = 'table' | 'json' | 'csv'

export function formatOption(choices: readonly OutputFormat[] = ['table', 'json']): Option {
  return new Option(
    '--format <format>',
    'output format (default: table on a terminal, json otherwise)',
  ).choices(choices)
}

export function tenantOption(): Option {
  return new Option(
    '--tenant <id>',
    'tenant id (default: OFFBOARD_TENANT_ID, else the only tenant in the store)',
  )
}

/** Table for people at a terminal, JSON for scripts and pipes, as `offboard run` does. */
export function outputFormat(explicit: OutputFormat | undefined): OutputFormat {
  return explicit ?? (process.stdout.isTTY ? 'table' : 'json')
}

export function writerOf(deps: CommandDeps): (text: string) => Promise<void> {
  return deps.write ?? writeStdout
}
