import { usdFine } from '../quantities.js';

/**
 * Why a run stopped with records held by max_cost. The cap is per run: "raise max_cost" read as a
 * cap on the workload's total, which another run (or a cron'd run-once) would spend again from zero.
 * But a record that alone costs more than the cap is held by every run: running again only repeats
 * this, so then the way on is a higher cap.
 */
export function costCapWarning(
  maxCostUsd: number | null,
  held: number,
  cheapestHeldUsd: number | undefined,
): string {
  if (maxCostUsd !== null && cheapestHeldUsd !== undefined && cheapestHeldUsd > maxCostUsd)
    return `execution.max_cost ($${maxCostUsd}) is below what a single record costs: ${held} ready records are held and not sent, the cheapest estimated at ${usdFine(cheapestHeldUsd)}. No run can send them at this cap: raise execution.max_cost above ${usdFine(cheapestHeldUsd)}.`;
  return `execution.max_cost ($${maxCostUsd}) is reached in this run: ${held} ready records are held and not sent. Each run may send up to max_cost: run again to send up to $${maxCostUsd} more.`;
}
