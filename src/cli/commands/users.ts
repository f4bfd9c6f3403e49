/** @module `offboard users` and `offboard user …`: who may view and run, act on devices, or configure the agent. */
import { Argument, type Command, Option } from 'commander'
import { formatOption, type OutputFormat, outputFormat, writerOf } from '../../agent/cli.js'
import { actorOf, type CommandDeps, storeOpener, withStore } from '../../agent/context.js'
import { renderJson, renderTable } from '../../agent/format.js'
import { ENV_USER, ROLE_DESCRIPTIONS, ROLES, type Role } from '../../agent/model.js'
import type { UserView } from '../../agent/roles.js'

const ROLE_HELP = `
Roles:
${ROLES.map((r) => `  ${r.padEnd(7)} ${ROLE_DESCRIPTIONS[r]}`).join('\n')}

You act as ${ENV_USER}, else your operating-system user name. Until the first user exists anyone may view and
run; the first 'agent create' or 'user add' makes its caller an administrator.`

/** The services load with the database layer, only when a command runs. */
const services = () => import('../../agent/roles.js')

export function registerUsers(program: Command, deps: CommandDeps = {}): void {
  const open = storeOpener(deps)
  const write = writerOf(deps)
  const print = (user: UserView, format: OutputFormat | undefined, note: string) =>
    write(outputFormat(format) === 'json' ? renderJson(user) : `${note}\n`)

  program
    .command('users')
    .summary('list users and their roles')
    .addOption(formatOption())
    .addHelpText('after', ROLE_HELP)
    .action((opts: { format?: OutputFormat }) =>
      withStore(open, async (store) => {
        const users = await (await services()).listUsers(store, actorOf(deps))
        await write(
          outputFormat(opts.format) === 'json'
            ? renderJson(users)
            : renderTable(
                ['name', 'role', 'added by', 'added'],
                users.map((u) => [u.name, u.role, u.createdBy, u.createdAt]),
                "No users yet: anyone may view and run. Add the first administrator with 'offboard user add NAME --role admin'.",
              ),
        )
      }),
    )

  const user = program
    .command('user')
    .summary('add or remove a user, or change a role')
    .addHelpText('after', ROLE_HELP)

  user
    .command('add')
    .summary('add a user with a role (administrators only)')
    .argument('<name>', 'user name, e.g. the UPN bob@contoso.com')
    .addOption(new Option('--role <role>', 'the role').choices(ROLES).makeOptionMandatory())
    .addOption(formatOption())
    .action((name: string, opts: { role: Role; format?: OutputFormat }) =>
      withStore(open, async (store) => {
        const added = await (await services()).addUser(store, actorOf(deps), name, opts.role)
        await print(added, opts.format, `User ${added.name} added as ${added.role}.`)
      }),
    )

  user
    .command('role')
    .summary("change a user's role (administrators only)")
    .argument('<name>', 'user name')
    .addArgument(new Argument('<role>', 'the new role').choices(ROLES))
    .addOption(formatOption())
    .action((name: string, role: Role, opts: { format?: OutputFormat }) =>
      withStore(open, async (store) => {
        const changed = await (await services()).setUserRole(store, actorOf(deps), name, role)
        await print(changed, opts.format, `User ${changed.name} is now ${changed.role}.`)
      }),
    )

  user
    .command('remove')
    .summary('remove a user (administrators only; never the last administrator)')
    .argument('<name>', 'user name')
    .addOption(formatOption())
    .action((name: string, opts: { format?: OutputFormat }) =>
      withStore(open, async (store) => {
        await (await services()).removeUser(store, actorOf(deps), name)
        await write(
          outputFormat(opts.format) === 'json'
            ? renderJson({ removed: name.toLowerCase() })
            : `User ${name.toLowerCase()} removed.\n`,
        )
      }),
    )
}
