/**
 * @module `offboard mcp`: an MCP server over stdio for AI assistants — summary, suggestions, one device explained,
 * tasks, and the Entra disable (dry run first, then an explicit confirmation). Roles and the audit log apply as for
 * the CLI. stdout carries the protocol alone: everything else goes to stderr.
 */
import type { Command } from 'commander'
import { actorOf, type CommandDeps, storeOpener } from '../../agent/context.js'
import { parseInput } from '../../agent/errors.js'
import { UserName } from '../../agent/model.js'
import type { ApiClient } from '../../lib/graph-client.js'

export interface McpDeps extends CommandDeps {
  /** The Graph client for the disable; default: sign in from the OFFBOARD_* configuration, as `offboard act`. */
  connect?: (env: NodeJS.ProcessEnv) => Promise<ApiClient>
}

interface McpOptions {
  as?: string
  tenant?: string
}

export function registerMcp(program: Command, deps: McpDeps = {}): void {
  const env = deps.env ?? process.env
  program
    .command('mcp')
    .summary(
      'serve offboard to an AI assistant over MCP (stdio): summary, suggestions, tasks, disable with dry run',
    )
    .description(
      'Runs a Model Context Protocol server on stdin/stdout until the client disconnects. Tools: summary, ' +
        'query_suggestions, explain_device, tasks, disable_devices. Every call acts as one user (--as, else ' +
        "OFFBOARD_USER, else the OS user) with that user's role, and is audited like the same CLI command. " +
        'disable_devices changes nothing without confirm: true and the dryRunId of a dry run of the same selection.',
    )
    .option('--as <user>', 'the offboard user the tools act as (default: OFFBOARD_USER, else the OS user)')
    .option('--tenant <id>', 'tenant id (default: OFFBOARD_TENANT_ID, else the only tenant in the store)')
    .addHelpText(
      'after',
      `
Client configuration (e.g. Claude Desktop's claude_desktop_config.json):
  { "mcpServers": { "offboard": { "command": "npx", "args": ["offboard", "mcp", "--as", "alice@contoso.com"],
      "env": { "OFFBOARD_DATA_DIR": "/path/to/.offboard" } } } }`,
    )
    .action(async (opts: McpOptions) => {
      const actor = opts.as !== undefined ? parseInput(UserName, opts.as, '--as user name') : actorOf(deps)
      // stdout is the protocol channel: a stray console.log from any library would corrupt it.
      for (const m of ['log', 'info', 'debug'] as const) console[m] = console.error
      const [{ createMcpServer }, { DryRunLedger }, { StdioServerTransport }] = await Promise.all([
        import('../../mcp/server.js'),
        import('../../mcp/dry-runs.js'),
        import('@modelcontextprotocol/sdk/server/stdio.js'),
      ])
      const connect = deps.connect ?? (await import('./act.js')).connectFromConfig
      let graph: Promise<ApiClient> | undefined
      const server = createMcpServer({
        actor,
        tenant: opts.tenant,
        env,
        openStore: storeOpener(deps),
        // Sign in once, on the first disable; a failed sign-in is retried on the next call.
        connect: () => {
          graph ??= connect(env).catch((err: unknown) => {
            graph = undefined
            throw err
          })
          return graph
        },
        dryRuns: new DryRunLedger(),
      })
      const closed = new Promise<void>((resolve) => {
        server.server.onclose = resolve
      })
      const stop = () => void server.close()
      // The SDK's stdio transport does not notice stdin closing: the client hanging up ends the server.
      process.stdin.once('end', stop)
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      await server.connect(new StdioServerTransport())
      process.stderr.write(`offboard mcp: serving as ${actor} on stdio.\n`)
      await closed
    })
}
