/** @module The `offboard` command line: commands are registered here; errors become output in one place. */
import { Command } from 'commander'
import { registerSimulate } from '../simulator/command.js'
import { VERSION } from '../version.js'
import { registerAct, registerUndo } from './commands/act.js'
import { registerAgent } from './commands/agent.js'
import { registerAsk } from './commands/ask.js'
import { registerDemo } from './commands/demo.js'
import { registerDoctor } from './commands/doctor.js'
import { registerKeys } from './commands/keys.js'
import { registerLogs } from './commands/logs.js'
import { registerMcp } from './commands/mcp.js'
import { registerRules } from './commands/rules.js'
import { registerRun, runScheduled } from './commands/run.js'
import { registerSchema } from './commands/schema.js'
import { registerServe } from './commands/serve.js'
import { registerSnapshot } from './commands/snapshot.js'
import { registerSuggestions } from './commands/suggestions.js'
import { registerTasks } from './commands/tasks.js'
import { registerUsers } from './commands/users.js'
import { reportError } from './output.js'

export function buildProgram(): Command {
  const program = new Command()
    .name('offboard')
    .description(
      'Find devices to offboard across Intune, Entra ID, Windows Autopilot and Defender for Endpoint, and explain why.\n' +
        'Every recommendation comes with its rationale, the evidence from each source, and the documented order of steps.',
    )
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`offboard: ${str.replace(/^error: /, 'error: ')}`),
    })
    .addHelpText(
      'after',
      `
Quick start:
  offboard run --demo                       evaluate the built-in demo tenant
  offboard doctor                           check sign-in and permissions for your tenant
  offboard run                              evaluate your tenant (configured by OFFBOARD_* variables)
  offboard run --snapshot ./export          evaluate an exported tenant
  offboard demo --out ./demo-tenant         write the demo tenant as a snapshot to explore

Run 'offboard <command> --help' for the options of a command.`,
    )
  registerRun(program)
  registerAct(program)
  registerUndo(program)
  registerKeys(program)
  registerSuggestions(program)
  registerAsk(program)
  registerTasks(program)
  registerAgent(program)
  registerUsers(program)
  registerLogs(program)
  registerServe(program, runScheduled)
  registerMcp(program)
  registerDemo(program)
  registerSnapshot(program)
  registerDoctor(program)
  registerSimulate(program)
  registerRules(program)
  registerSchema(program)
  // Subcommands inherit exitOverride so usage errors reach reportError (exit 2) instead of process.exit(1).
  for (const cmd of program.commands) cmd.exitOverride()
  return program
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv)
    // A command may report failure without throwing (doctor's failed checks): keep the code it set.
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    return reportError(err)
  }
}
