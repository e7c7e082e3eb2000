import { Command, InvalidArgumentError } from 'commander';
import { configOption } from '../config-option.js';
import { formatEstimate } from '../estimate-view.js';
import { styleFor } from '../style.js';
import { withWorkloadServiceOrEmpty } from '../workload-service.js';
import { baseUrlOption } from './oneoff-options.js';

interface EstimateOptions {
  config?: string;
  json?: boolean;
  calibrate?: number;
  outputTokens?: number;
  baseUrl?: string;
}

/** `wavebatch estimate`: requests, tokens, cost per lane and time per mode, before a run. */
export function estimateCommand(): Command {
  return new Command('estimate')
    .description(
      'Estimate the workload before running it: requests, input/output tokens, cost per lane (batch, flex, standard, priority, auto), rounds and time',
    )
    .addOption(configOption())
    .option('--json', 'print JSON (the shape is documented in the README)')
    .option(
      '--calibrate <n>',
      'check the local token estimate on n sampled requests with countTokens (free)',
      whole,
    )
    .option(
      '--output-tokens <n>',
      'output tokens per request (thinking included), instead of the learnt or default figure',
      whole,
    )
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch estimate\n  wavebatch estimate --calibrate 20\n  wavebatch estimate --output-tokens 800 --json | jq .modes.auto',
    )
    .action(async (options: EstimateOptions) => {
      // Meant for before the first run too, so it says nothing of a workload that never ran.
      await withWorkloadServiceOrEmpty(
        options.config,
        async (service) => {
          // Latencies earlier runs of this workload measured replace the priors, as for a run.
          const estimate = await service.estimate({
            ...(options.calibrate !== undefined ? { calibrate: options.calibrate } : {}),
            ...(options.outputTokens !== undefined ? { outputTokens: options.outputTokens } : {}),
          });
          process.stdout.write(
            options.json
              ? `${JSON.stringify(estimate, jsonNumbers, 2)}\n`
              : formatEstimate(estimate, styleFor(process.stdout)),
          );
        },
        { sayNeverRun: false, baseUrl: options.baseUrl },
      );
    });
}

function whole(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return parsed;
}

/** Infinity (a lane with no quota never finishes) is not JSON: it is written as null. */
export function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
