import { InvalidArgumentError, Option } from 'commander';
import { WavebatchError } from '../errors.js';
import { parseFieldConditions, type RecordSelection, type SelectionPlan } from '../service/index.js';
import type { Questions } from './questions.js';
import { counted } from '../quantities.js';

/** More records than this redone by `--force` ask for confirmation (or `--yes`). */
export const FORCE_CONFIRM_ABOVE = 20;

/** The selection flags of `run` and `run-once`, as commander parses them. */
export interface SelectionOptions {
  only?: string[];
  filter?: string[];
  limit?: number;
  force?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

/** Raised when `--force` would redo many records and nobody confirmed it. */
export class ForceConfirmationError extends WavebatchError {
  readonly code = 'CONFIRMATION_REQUIRED';
  constructor(records: number, declined: boolean) {
    super(
      declined
        ? `Nothing was sent: redoing ${counted(records, 'record')} was not confirmed.`
        : `--force would make ${counted(records, 'existing output')} again; add --yes to confirm (or narrow the selection, or try --dry-run first).`,
    );
  }
}

/** `--only`, `--filter`, `--limit`, `--force`, `--yes`, `--dry-run`. */
export function selectionOptions(): Option[] {
  return [
    new Option(
      '--only <ids...>',
      'only these records: ids, chain ids or globs over them (* within a path segment, ** across)',
    ),
    new Option(
      '--filter <field=value,...>',
      'only records whose levels / columns match: state=TX,year=1990..1999 (a field twice: either value); repeatable',
    ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    new Option(
      '--limit <n>',
      'send at most n records: whole chain prefixes in chain order, to try the workload on a sample',
    ).argParser(positiveWhole),
    new Option('--force', 'send the selected done records again (their outputs are made anew)'),
    new Option(
      '--yes',
      `confirm --force without asking when it redoes more than ${FORCE_CONFIRM_ABOVE} records`,
    ),
    new Option('--dry-run', 'print what would be sent and what it would cost; send nothing'),
  ];
}

/** The selection the flags ask for; null when none is given (the whole workload, as always). */
export function selectionFrom(options: SelectionOptions): RecordSelection | null {
  if (!options.only && !options.filter && options.limit === undefined && !options.force) return null;
  return {
    ...(options.only ? { only: options.only } : {}),
    ...(options.filter ? { filter: parseFieldConditions(options.filter) } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.force ? { force: true } : {}),
  };
}

/**
 * Goes on only when redoing the plan's done records is confirmed: a few need nothing, many need
 * `--yes` or a "y" typed on a terminal. Without a terminal and without `--yes` it refuses.
 */
export async function confirmRedo(
  plan: SelectionPlan,
  yes: boolean,
  ask: (() => Questions) | null,
): Promise<void> {
  const records = plan.redo.length;
  if (records <= FORCE_CONFIRM_ABOVE || yes) return;
  if (!ask) throw new ForceConfirmationError(records, false);
  const questions = ask();
  try {
    const answer = await questions.ask(`Make ${counted(records, 'existing output')} again? (y/N)`, 'N');
    if (!/^y(es)?$/i.test(answer)) throw new ForceConfirmationError(records, true);
  } finally {
    questions.close();
  }
}

function positiveWhole(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a whole number > 0, e.g. --limit 20');
  return parsed;
}
