/** @module The local Graph/Defender simulator: start it, load data for it, and the types that describe it. */
export { MAX_BATCH_REQUESTS } from './batch.js'
export { DEFAULT_DEFENDER_LIMITS, DEFENDER_MAX_TOP } from './defender.js'
export { FAULT_RETRY_AFTER_S } from './faults.js'
export { DEFAULT_PAGE_SIZE, ENTRA_MAX_TOP } from './graph-devices.js'
export { loadSimulatorData, type SimulatorDataSource } from './load.js'
export {
  ALL_PERMISSIONS,
  DEFAULT_USER,
  DEFENDER_AUDIENCE,
  DIRECTORY_ROLE_TEMPLATE_IDS,
  GRAPH_AUDIENCE,
  PERMISSIONS,
} from './permissions.js'
export { DEFAULT_APP, DEFAULT_TENANT_ID, startSimulator } from './server.js'
export type {
  FaultOptions,
  RecordedCall,
  RequestLogEntry,
  Simulator,
  SimulatorApp,
  SimulatorData,
  SimulatorOptions,
  SimulatorUser,
} from './types.js'
