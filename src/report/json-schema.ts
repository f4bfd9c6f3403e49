/** @module The report's JSON Schema, derived from the zod contract so the two can never disagree. */
import { z } from 'zod'
import { REPORT_SCHEMA_VERSION, Report } from '../domain/report.js'

export const REPORT_SCHEMA_ID = `https://offboard.invalid/schema/report-v${REPORT_SCHEMA_VERSION}.json`

export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Report, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>
  return {
    ...schema,
    $id: REPORT_SCHEMA_ID,
    title: 'offboard report',
    description: `The output of \`offboard run --format json\` (schemaVersion ${REPORT_SCHEMA_VERSION}). Fields may be added in later versions; none is removed or renamed without a new schemaVersion.`,
  }
}
