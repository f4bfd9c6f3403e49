/** @module Public types of the local Graph/Defender simulator and the request/response shapes its route modules share. */

/** An app registration the simulator knows: client credentials and the application permissions (roles) it holds. */
export interface SimulatorApp {
  clientId: string
  /** Without a secret, any non-empty secret is accepted for this client. */
  clientSecret?: string
  /** App permissions (roles) in the token, Graph and Defender ones together; each token carries those of its audience. */
  roles: string[]
}

/** A user who can sign in with the device code flow (delegated tokens). */
export interface SimulatorUser {
  /** The user principal name, e.g. admin@contoso.com (the token's `upn`). */
  upn: string
  /** Directory role names (e.g. 'Cloud Device Administrator'); the token's `wids` carries their template ids. */
  directoryRoles?: string[]
  /** Consented delegated scopes, Graph and Defender together; default every scope the simulator knows. */
  scopes?: string[]
}

/** Injected faults; every share is 0..1 and draws come from one seeded PRNG, so a run is repeatable. */
export interface FaultOptions {
  /** Share of data requests answered 429 with a small fractional Retry-After. */
  rate429?: number
  /** Share answered 503 (sometimes 500 or 504) with an API-shaped error body. */
  rate5xx?: number
  /** Delay added before every data response. */
  latencyMs?: number
  /** Share of requests whose socket is destroyed before any response. */
  resetRate?: number
  /** Share of responses that send headers and a prefix of the body, then destroy the socket. */
  truncateRate?: number
  /** A list's second page links back to the first page. */
  nextLinkLoop?: boolean
  seed?: number
}

export type PagedCollection = 'managedDevices' | 'devices' | 'windowsAutopilotDeviceIdentities' | 'machines'

export interface SimulatorOptions {
  /** Raw records per collection. */
  data: SimulatorData
  /** Default: data.meta.tenantId or a fixed GUID. */
  tenantId?: string
  /** Default 0 (ephemeral); always binds 127.0.0.1. */
  port?: number
  /** Serve HTTPS with a self-signed certificate made at start-up (see Simulator.caPem). */
  https?: boolean
  /** Default: one app with every permission (DEFAULT_APP). */
  apps?: SimulatorApp[]
  /** Users for the device code flow; default one Cloud Device Administrator (DEFAULT_USER). */
  users?: SimulatorUser[]
  /**
   * The device code flow has no browser here: the user named here (default the first of `users`) approves every
   * code automatically, after the client has polled `deviceCodePendingPolls` times (default 1) and been told
   * `authorization_pending`.
   */
  deviceCodeUser?: string
  deviceCodePendingPolls?: number
  faults?: FaultOptions
  /** Server default page sizes (for Intune and Autopilot also the cap). */
  pageSize?: Partial<Record<PagedCollection, number>>
  /** For MachineAction, token and rate-limit timing in tests; default Date.now. */
  clock?: () => number
  /** Defender API limits per app; default 100 per minute and 1,500 per hour (reference §4.3). */
  defenderLimits?: { perMinute: number; perHour: number }
  /** Autopilot deregistration is asynchronous: the identity disappears after this (default 0). */
  autopilotDeleteDelayMs?: number
  /** An Offboard MachineAction goes Pending → Succeeded after this (default 1000). */
  machineActionDelayMs?: number
  /** Machines whose Offboard actions end `Failed` instead of `Succeeded` (the MachineAction follow-up's bad path). */
  failingMachines?: string[]
  /**
   * Intune deletes settle after this long (default 0: at once); until then the record stays listed as
   * `deletePending`, as Intune shows a device whose removal is underway.
   */
  intuneDeleteDelayMs?: number
}

export interface SimulatorData {
  managedDevices: object[]
  devices: object[]
  windowsAutopilotDeviceIdentities: object[]
  machines: object[]
  teamworkDevices?: object[]
  /** BitLocker recovery keys (`bitlockerRecoveryKey`, with `key`); served by `bitlocker.ts`. */
  bitlockerRecoveryKeys?: object[]
  meta?: { tenantId?: string; takenAt?: string }
}

/** One mutating call (POST/PATCH/DELETE, each $batch item on its own). */
export interface RecordedCall {
  seq: number
  /** ISO time from the simulator clock. */
  at: string
  method: string
  /** Full path, e.g. `/v1.0/devices/{id}` (a $batch item gets its version prefix). */
  path: string
  /** Raw query string without `?` ('' when none). */
  query: string
  /** Parsed JSON body, the raw text when it is not JSON, or null. */
  body: unknown
  /** HTTP status returned; 0 when the connection was reset before any response. */
  status: number
  /** `appid` of the caller's token, null when unauthenticated. */
  clientId: string | null
}

export interface RequestLogEntry {
  method: string
  path: string
  /** ISO time from the simulator clock, when the request arrived. */
  at?: string
  /** 0 when the connection was reset before any response. */
  status: number
}

export interface Simulator {
  /** e.g. http://127.0.0.1:54321 (https:// with https). */
  url: string
  /** The certificate to trust (https). */
  caPem?: string
  /** The same written to a temp file, for NODE_EXTRA_CA_CERTS. */
  caPath?: string
  tenantId: string
  /** `${url}/v1.0` (beta at `${url}/beta`). */
  graphBaseUrl: string
  /** `${url}` (Defender paths start with /api). */
  defenderBaseUrl: string
  /** `${url}` (token endpoint `${url}/${tenantId}/oauth2/v2.0/token`). */
  authorityHost: string
  /** Every mutating call (POST/PATCH/DELETE incl. $batch items), in order. */
  calls(): RecordedCall[]
  /** Every HTTP request received, in order. */
  requests(): RequestLogEntry[]
  /** Current state (after mutations), as deep copies. */
  data(): SimulatorData
  setFaults(f: FaultOptions): void
  close(): Promise<void>
}

/** A request as the route handlers see it, whether it came over the wire or inside a $batch. */
export interface SimRequest {
  method: string
  /** Path without query, e.g. `/v1.0/devices/abc`. */
  path: string
  query: URLSearchParams
  /** Raw query string without `?`. */
  rawQuery: string
  /** Lower-case header names. */
  headers: Record<string, string | undefined>
  /** Raw body text; undefined when there is none. */
  body: string | undefined
}

export interface SimResponse {
  status: number
  headers?: Record<string, string>
  /** JSON-serialisable body; undefined for none (204). */
  body?: unknown
}

export type ApiKind = 'graph' | 'defender'
