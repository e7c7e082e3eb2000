/**
 * Which ready record goes to which lane now: chain depth (the critical path), learned latencies,
 * the deadline, the cost cap and the lanes' room; stall detection for batch jobs. Pure: the run
 * loop gathers the facts and acts on the decisions.
 */
export {
  chainFinishMs,
  chooseLanes,
  type DecisionReason,
  type ExecutionMode,
  type LaneDecision,
  type LaneRoom,
  type ReadyRecord,
  type SchedulingInput,
} from './lane-policy.js';
export { LatencyTracker, PRIOR_LATENCY, type LaneLatency } from './latency.js';
export { isStalledBatch, MIN_STALL_MS, STALL_FACTOR } from './stalls.js';
export {
  deepestChain,
  projectAuto,
  projectBatch,
  projectSync,
  type LaneCapacities,
  type Projection,
  type WorkloadShape,
} from './projection.js';
export { compareWithBatchOnly, type BatchOnlyComparison, type WorkAtStart } from './batch-only-comparison.js';
export {
  autoTarget,
  batchSteps,
  flexShare,
  flexWaves,
  type AutoTarget,
  type ChainDepths,
  type FlexWave,
} from './auto-target.js';
export { drainMs, type OpenRequests } from './lane-drain.js';
