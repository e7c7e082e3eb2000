import type { Lane } from '../lanes/lane.js';
import type { LaneEstimate, TokenSource, WorkloadEstimate } from '../service/index.js';
import { count, counted, duration, usd } from '../quantities.js';
import type { Style } from './style.js';

const ROWS: ReadonlyArray<Lane | 'auto'> = ['batch', 'flex', 'standard', 'priority', 'auto'];

/** `wavebatch estimate` for a person: the workload, the tokens and where they come from, a row per mode. */
export function formatEstimate(estimate: WorkloadEstimate, style: Style): string {
  const { tokens } = estimate;
  const grouped = estimate.recordsPerRequest > 1;
  const what = grouped
    ? `${counted(estimate.records, 'record')} (${estimate.recordsPerRequest} per batch request)`
    : counted(estimate.records, 'request');
  const per = grouped ? 'per record' : 'per request';
  const lines = [
    `${style.bold(estimate.workload)}: ${what} in ${counted(estimate.chains, 'chain')} (longest ${estimate.longestChain}), ${estimate.model}, prices as of ${estimate.priceListAsOf}`,
    `input tokens:  ${count(tokens.input)} (${count(tokens.inputPerRequest)} ${per}, ${source(tokens.inputSource)}; a predecessor's output adds ~${count(tokens.contextPerRequest)})`,
    `output tokens: ${count(tokens.output)} (${count(tokens.outputPerRequest)} ${per}, thinking included, ${source(tokens.outputSource)})`,
    '',
    style.bold(`${'mode'.padEnd(10)}${'cost'.padStart(12)}${'rounds'.padStart(8)}  time`),
  ];
  for (const mode of ROWS) lines.push(row(mode, estimate.modes[mode], style));
  if (estimate.modes.batch.costUsd === null)
    lines.push(
      '',
      style.warn(`${estimate.model} has no price in the list: add it under pricing: in the config.`),
    );
  return `${lines.join('\n')}\n`;
}

function row(mode: Lane | 'auto', lane: LaneEstimate, style: Style): string {
  const name = mode.padEnd(10);
  if (!lane.available) return `${name}${style.dim('not available in your usage tier (limits.usage_tier)')}`;
  const cost = (lane.costUsd === null ? '?' : usd(lane.costUsd)).padStart(12);
  const time = `${duration(lane.timeMs.low)} – ${duration(lane.timeMs.high)}`;
  const split =
    mode === 'auto'
      ? `  (${Object.entries(lane.recordsByLane)
          .map(([name, records]) => `${name} ${count(records)}`)
          .join(', ')})`
      : '';
  return `${name}${cost}${String(lane.rounds).padStart(8)}  ${time}${split}`;
}

function source(token: TokenSource): string {
  switch (token.kind) {
    case 'local':
      return 'local estimate; --calibrate N checks it with countTokens';
    case 'calibrated':
      return `calibrated with countTokens on ${counted(token.samples, 'sample')}, x${token.ratio.toFixed(2)}`;
    case 'option':
      return 'from --output-tokens';
    case 'finished':
      return `mean of ${counted(token.samples, 'finished record')}`;
    case 'default':
      return 'a default guess: pass --output-tokens, or run a few records first';
    default:
      return token satisfies never;
  }
}
