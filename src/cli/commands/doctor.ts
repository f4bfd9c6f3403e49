/** @module `offboard doctor`: checks sign-in and every permission each feature needs, and says how to grant what is missing. */
import { type Command, Option } from 'commander'
import { NON_WINDOWS_ROLE_IDS, NON_WINDOWS_ROLES } from '../../actions/entra-disable.js'
import { loadTenantConfig, SCOPES, type TenantConfig } from '../../lib/config.js'
import { ConfigError, OffboardError } from '../../lib/errors.js'
import type { ApiClient, TokenProvider } from '../../lib/graph-client.js'
import { writeStdout } from '../output.js'
import { connectTenant } from '../tenant.js'

interface Check {
  feature: string
  api: 'graph' | 'graphBeta' | 'defender'
  /** Permissions any one of which is enough (least privileged first). */
  permissions: string[]
  /** Signed in as a user: the delegated permissions (scopes) to look for instead, when their names differ. */
  delegated?: string[]
  /** Signed in as a user: directory roles one of which the user also needs. */
  roles?: readonly (typeof NON_WINDOWS_ROLES)[number][]
  /** A read to try; write features are checked from the token's granted permissions only (nothing is changed). */
  probe?: string
  required: boolean
}

export const CHECKS: Check[] = [
  {
    feature: 'Read Intune devices',
    api: 'graph',
    probe: '/deviceManagement/managedDevices?$top=1&$select=id',
    permissions: ['DeviceManagementManagedDevices.Read.All', 'DeviceManagementManagedDevices.ReadWrite.All'],
    required: true,
  },
  {
    feature: 'Read Entra devices',
    api: 'graph',
    probe: '/devices?$top=1&$select=id',
    permissions: ['Device.Read.All', 'Device.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    delegated: ['Device.Read.All', 'Directory.Read.All', 'Directory.AccessAsUser.All'],
    required: true,
  },
  {
    feature: 'Read Autopilot identities',
    api: 'graph',
    probe: '/deviceManagement/windowsAutopilotDeviceIdentities?$top=1',
    permissions: ['DeviceManagementServiceConfig.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All'],
    required: true,
  },
  {
    feature: 'Read Defender machines',
    api: 'defender',
    probe: '/api/machines?$top=1',
    permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'],
    delegated: ['Machine.Read', 'Machine.ReadWrite'],
    required: true,
  },
  {
    feature: 'Read Teams devices (optional)',
    api: 'graphBeta',
    probe: '/teamwork/devices',
    permissions: ['TeamworkDevice.Read.All'],
    required: false,
  },
  {
    feature: 'Disable Entra devices (agent action)',
    api: 'graph',
    permissions: ['Device.ReadWrite.All', 'Directory.ReadWrite.All'],
    // Reference §2.1: a user writes device objects through Directory.AccessAsUser.All, within their roles.
    delegated: ['Directory.AccessAsUser.All'],
    roles: NON_WINDOWS_ROLES,
    required: false,
  },
  {
    feature: 'Delete Intune devices (opt-in)',
    api: 'graph',
    permissions: ['DeviceManagementManagedDevices.ReadWrite.All'],
    required: false,
  },
  {
    feature: 'Retire Intune devices (opt-in)',
    api: 'graph',
    permissions: ['DeviceManagementManagedDevices.PrivilegedOperations.All'],
    required: false,
  },
  {
    feature: 'Deregister Autopilot devices (opt-in)',
    api: 'graph',
    permissions: ['DeviceManagementServiceConfig.ReadWrite.All'],
    required: false,
  },
  {
    feature: 'Export BitLocker recovery keys',
    api: 'graph',
    permissions: ['BitlockerKey.Read.All'],
    required: false,
  },
  {
    feature: 'Offboard Defender machines (opt-in)',
    api: 'defender',
    permissions: ['Machine.Offboard'],
    required: false,
  },
]

export interface CheckResult {
  feature: string
  ok: boolean | null
  required: boolean
  detail: string
  fix: string | null
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .summary('check sign-in and the permissions every feature needs')
    .description(
      'Signs in to the configured tenant, tries one read per source, and compares the permissions granted to the\n' +
        'token with those each feature needs. Nothing in the tenant is changed.\n\n' +
        'Configuration (environment over offboard.config.json):\n' +
        '  OFFBOARD_TENANT_ID        tenant (directory) id\n' +
        '  OFFBOARD_CLIENT_ID        application (client) id\n' +
        '  OFFBOARD_AUTH             secret | certificate | managedIdentity | deviceCode | browser\n' +
        '  OFFBOARD_CLIENT_SECRET    client secret (environment only, never in a file)\n' +
        '  OFFBOARD_CERTIFICATE_PATH PEM with certificate and private key\n' +
        '  OFFBOARD_GRAPH_URL, OFFBOARD_DEFENDER_URL, OFFBOARD_AUTHORITY_HOST   other clouds or the simulator',
    )
    .option('--config <file>', 'tenant config file (default: offboard.config.json, then the environment)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (opts: { config?: string; format: 'table' | 'json' }) => {
      const config = await loadTenantConfig(opts.config)
      if (!config)
        throw new ConfigError(
          'no tenant is configured.',
          "Set OFFBOARD_TENANT_ID and the sign-in variables (see 'offboard doctor --help'), or write offboard.config.json.",
        )
      const { clients, tokens } = await connectTenant(config)
      const { results, signIn } = await runChecks(
        config,
        { graph: clients.graph, graphBeta: clients.graphBeta!, defender: clients.defender },
        tokens,
      )
      if (opts.format === 'json')
        await writeStdout(
          `${JSON.stringify({ tenantId: config.tenantId, auth: config.auth, signIn, results }, null, 2)}\n`,
        )
      else await writeStdout(renderResults(config, results, signIn))
      if (results.some((r) => r.required && r.ok === false)) process.exitCode = 1
    })
}

/** Who the tokens speak for: the app, or a signed-in user (delegated) with their directory roles. */
export interface SignIn {
  kind: 'app' | 'delegated'
  /** The signed-in user's UPN (delegated only). */
  user: string | null
}

interface Granted {
  list: Set<string> | null
  error: string | null
  /** Set for a delegated token: the user and their directory role template ids (`wids`). */
  user: { upn: string | null; wids: string[] } | null
}

export async function runChecks(
  config: TenantConfig,
  clients: Record<Check['api'], ApiClient>,
  tokens: TokenProvider,
): Promise<{ results: CheckResult[]; signIn: SignIn }> {
  const granted: Record<'graph' | 'defender', Granted> = {
    graph: await grantedPermissions(tokens, SCOPES.graph),
    defender: await grantedPermissions(tokens, SCOPES.defender),
  }
  const results: CheckResult[] = []
  for (const check of CHECKS) {
    const api = check.api === 'defender' ? 'defender' : 'graph'
    const token = granted[api]
    if (token.error) {
      results.push({
        feature: check.feature,
        ok: false,
        required: check.required,
        detail: `sign-in failed: ${token.error}`,
        fix: 'Check the tenant id, client id and credential.',
      })
      continue
    }
    const user = token.user
    const wanted = user ? (check.delegated ?? check.permissions) : check.permissions
    const has = token.list ? wanted.find((p) => token.list!.has(p)) : undefined
    const grantHint = user
      ? `Grant the delegated permission ${wanted[0]} (admin consent for the app), or sign in as a user whose role allows it.`
      : `Grant ${check.permissions[0]} (${api === 'defender' ? 'WindowsDefenderATP' : 'Microsoft Graph'} application permission, with admin consent)` +
        (config.auth === 'deviceCode' || config.auth === 'browser'
          ? ', or sign in as a user whose role allows it'
          : '') +
        '.'
    if (check.probe) {
      try {
        await clients[check.api].request('GET', check.probe, {
          source: check.feature,
          permission: check.permissions[0]!,
        })
        results.push({
          feature: check.feature,
          ok: true,
          required: check.required,
          detail: has ? `read works (${has})` : 'read works',
          fix: null,
        })
      } catch (err) {
        if (!(err instanceof OffboardError)) throw err
        results.push({
          feature: check.feature,
          ok: false,
          required: check.required,
          detail: err.message,
          fix: grantHint,
        })
      }
      continue
    }
    if (token.list === null) {
      results.push({
        feature: check.feature,
        ok: null,
        required: check.required,
        detail: 'the token does not list its permissions; cannot tell without trying',
        fix: null,
      })
    } else if (user && check.roles && has) {
      // Graph lets a user change device objects only within their directory roles (reference §2.1).
      const role = check.roles.find((r) => user.wids.includes(NON_WINDOWS_ROLE_IDS[r]))
      results.push({
        feature: check.feature,
        ok: Boolean(role),
        required: check.required,
        detail: role
          ? `granted (${has}; ${user.upn ?? 'the user'} is ${role})`
          : `${user.upn ?? 'the signed-in user'} has neither the ${check.roles.join(' nor the ')} role`,
        fix: role
          ? null
          : `Assign the signed-in user the ${check.roles.join(' or ')} role in Entra, or sign in as a user who has it.`,
      })
    } else {
      results.push({
        feature: check.feature,
        ok: Boolean(has),
        required: check.required,
        detail: has ? `granted (${has})` : `missing: ${wanted.join(' or ')}${user ? ' (delegated)' : ''}`,
        fix: has ? null : grantHint,
      })
    }
  }
  const who = granted.graph.user ?? granted.defender.user
  return { results, signIn: { kind: who ? 'delegated' : 'app', user: who?.upn ?? null } }
}

/** Application tokens list granted permissions in `roles`, delegated ones in `scp` (space-separated). */
async function grantedPermissions(tokens: TokenProvider, scope: string): Promise<Granted> {
  let token: string
  try {
    token = await tokens.getToken(scope)
  } catch (err) {
    return { list: null, error: (err as Error).message, user: null }
  }
  const payload = token.split('.')[1]
  if (!payload) return { list: null, error: null, user: null }
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      roles?: unknown
      scp?: unknown
      upn?: unknown
      wids?: unknown
    }
    if (Array.isArray(claims.roles))
      return { list: new Set(claims.roles.map(String)), error: null, user: null }
    if (typeof claims.scp === 'string')
      return {
        list: new Set(claims.scp.split(' ')),
        error: null,
        user: {
          upn: typeof claims.upn === 'string' ? claims.upn : null,
          wids: Array.isArray(claims.wids) ? claims.wids.map(String) : [],
        },
      }
  } catch {
    // Not a JWT we can read: say "cannot tell" rather than guess.
  }
  return { list: null, error: null, user: null }
}

function renderResults(config: TenantConfig, results: CheckResult[], signIn: SignIn): string {
  const who =
    signIn.kind === 'delegated'
      ? `, delegated: signed in as ${signIn.user ?? 'a user'}`
      : config.clientId
        ? ` as app ${config.clientId}`
        : ''
  const lines = [
    `Tenant ${config.tenantId}, ${config.auth} sign-in${who} (settings from ${config.origin})`,
    '',
  ]
  const width = Math.max(...results.map((r) => r.feature.length))
  for (const r of results) {
    const mark = r.ok === true ? 'ok  ' : r.ok === false ? (r.required ? 'FAIL' : 'no  ') : '?   '
    lines.push(`${mark}  ${r.feature.padEnd(width)}  ${r.detail}`)
    if (r.fix) lines.push(`      ${' '.repeat(width)}  how to fix: ${r.fix}`)
  }
  const failed = results.filter((r) => r.required && r.ok === false).length
  lines.push(
    '',
    failed
      ? `${failed} required check${failed === 1 ? '' : 's'} failed: offboard run cannot read the whole tenant.`
      : 'Every required check passed.',
  )
  return `${lines.join('\n')}\n`
}
