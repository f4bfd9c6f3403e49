/** @module `offboard doctor`: checks sign-in and every permission each feature needs, and says how to grant what is missing. */
import { type Command, Option } from 'commander'
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
      const results = await runChecks(
        config,
        { graph: clients.graph, graphBeta: clients.graphBeta!, defender: clients.defender },
        tokens,
      )
      if (opts.format === 'json')
        await writeStdout(
          `${JSON.stringify({ tenantId: config.tenantId, auth: config.auth, results }, null, 2)}\n`,
        )
      else await writeStdout(renderResults(config, results))
      if (results.some((r) => r.required && r.ok === false)) process.exitCode = 1
    })
}

export async function runChecks(
  config: TenantConfig,
  clients: Record<Check['api'], ApiClient>,
  tokens: TokenProvider,
): Promise<CheckResult[]> {
  const granted: Record<'graph' | 'defender', { list: Set<string> | null; error: string | null }> = {
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
    const has = token.list ? check.permissions.find((p) => token.list!.has(p)) : undefined
    const grantHint =
      `Grant ${check.permissions[0]} (${api === 'defender' ? 'WindowsDefenderATP' : 'Microsoft Graph'} application permission, with admin consent)` +
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
    } else {
      results.push({
        feature: check.feature,
        ok: Boolean(has),
        required: check.required,
        detail: has ? `granted (${has})` : `missing: ${check.permissions.join(' or ')}`,
        fix: has ? null : grantHint,
      })
    }
  }
  return results
}

/** Application tokens list granted permissions in `roles`, delegated ones in `scp` (space-separated). */
async function grantedPermissions(
  tokens: TokenProvider,
  scope: string,
): Promise<{ list: Set<string> | null; error: string | null }> {
  let token: string
  try {
    token = await tokens.getToken(scope)
  } catch (err) {
    return { list: null, error: (err as Error).message }
  }
  const payload = token.split('.')[1]
  if (!payload) return { list: null, error: null }
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      roles?: unknown
      scp?: unknown
    }
    if (Array.isArray(claims.roles)) return { list: new Set(claims.roles.map(String)), error: null }
    if (typeof claims.scp === 'string') return { list: new Set(claims.scp.split(' ')), error: null }
  } catch {
    // Not a JWT we can read: say "cannot tell" rather than guess.
  }
  return { list: null, error: null }
}

function renderResults(config: TenantConfig, results: CheckResult[]): string {
  const lines = [
    `Tenant ${config.tenantId}, ${config.auth} sign-in${config.clientId ? ` as app ${config.clientId}` : ''} (settings from ${config.origin})`,
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
