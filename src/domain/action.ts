/** @module One step of an offboarding plan: which system, which operation, on which record, and who runs it. */
import { z } from 'zod'

export const ActionSystem = z.enum(['intune', 'autopilot', 'entra', 'defender', 'activeDirectory'])
export type ActionSystem = z.infer<typeof ActionSystem>

export const ActionOperation = z.enum([
  'delete',
  'retire',
  'wipe',
  'unassignUser',
  'disable',
  'offboard',
  'exclude',
])
export type ActionOperation = z.infer<typeof ActionOperation>

/**
 * `agent`: offboard does it itself after a dry run and confirmation (Entra disable only).
 * `optIn`: offboard can run it when the tenant policy enables that operation.
 * `manual`: steps for the admin (decisions.md, "Automation levels").
 */
export const Automation = z.enum(['agent', 'optIn', 'manual'])
export type Automation = z.infer<typeof Automation>

/** The HTTP call that performs a step, relative to its API root (Graph v1.0 or the Defender API). */
export const ActionRequest = z.object({
  api: z.enum(['graph', 'defender']),
  method: z.enum(['GET', 'POST', 'PATCH', 'DELETE']),
  path: z.string(),
  body: z.record(z.string(), z.unknown()).optional(),
})
export type ActionRequest = z.infer<typeof ActionRequest>

export const Action = z.object({
  step: z.number().int().positive(),
  system: ActionSystem,
  operation: ActionOperation,
  /** The record's own id in that system: Entra object id, Intune managed device id, Autopilot identity id, Defender machine id. */
  target: z.string(),
  /** The record's name, for people. Data from the tenant: never interpreted. */
  targetName: z.string().nullable(),
  automation: Automation,
  instructions: z.string(),
  /** What must hold before this step may run (earlier steps confirmed, keys exported, …). */
  prerequisites: z.array(z.string()),
  /** Consequences an admin must know before running it (a delete that wipes, an unsupported platform). */
  warnings: z.array(z.string()),
  request: ActionRequest.nullable(),
})
export type Action = z.infer<typeof Action>
