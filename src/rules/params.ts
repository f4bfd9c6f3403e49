/** @module Parameter schemas shared by several rules. */
import { z } from 'zod'
import { DEFAULT_STALE_DAYS, MIN_STALE_DAYS } from '../domain/policy.js'

/** The staleness window: decisions.md default 90 days, never below 30 (Entra's timestamp lags by up to ~19 days). */
export const StaleParams = z
  .object({ staleAfterDays: z.number().int().min(MIN_STALE_DAYS).default(DEFAULT_STALE_DAYS) })
  .strict()
export type StaleParams = z.infer<typeof StaleParams>
