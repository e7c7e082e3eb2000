import type { Lane } from '../lanes/lane.js';
import type { LaneLatency } from './latency.js';

/**
 * Planned time until a record's chain is done when it goes to `lane`: this step at the lane's slow
 * (90th-percentile) latency, then the rest of the chain at the speed it will most likely get —
 * Flex after a batch step (re-decided each round), the same lane after a synchronous one.
 */
export function chainFinishMs(lane: Lane, remaining: number, latency: Record<Lane, LaneLatency>): number {
  const rest = lane === 'batch' ? 'flex' : lane;
  const later = Math.max(0, remaining - 1);
  return latency[lane].slowMs + later * latency[rest].typicalMs;
}
