/** @module `offboard schema`: prints the JSON Schema of the report, for tools that consume it. */
import type { Command } from 'commander'
import { reportJsonSchema } from '../../report/json-schema.js'
import { writeStdout } from '../output.js'

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .summary('print the JSON Schema of the report (--format json)')
    .description(
      'Prints the JSON Schema (draft 2020-12) that every `offboard run --format json` report conforms to.\nThe same file ships as schema/report.schema.json.',
    )
    .action(async () => {
      await writeStdout(`${JSON.stringify(reportJsonSchema(), null, 2)}\n`)
    })
}
