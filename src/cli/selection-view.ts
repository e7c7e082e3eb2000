import type { SelectionPlan, WorkloadEstimate } from '../service/index.js';
import { count, counted, usd } from '../quantities.js';
import type { Style } from './style.js';

/** Ids listed in full before "and N more". */
const LISTED = 20;

/** What a run over a selection will do, in a few lines (printed before the run, and by --dry-run). */
export function formatSelection(plan: SelectionPlan, force: boolean): string {
  const lines = [
    `selection: ${counted(plan.matched, 'record')} matched${plan.limited ? ' (up to --limit)' : ''}; ` +
      `${count(plan.send.length)} to send in ${counted(plan.chains, 'chain')}` +
      (plan.redo.length > 0 ? ` (${counted(plan.redo.length, 'done one')} made again)` : ''),
  ];
  const left = [
    ...(plan.alreadyDone.length > 0
      ? [`${count(plan.alreadyDone.length)} already done${force ? '' : ' (--force makes them again)'}`]
      : []),
    ...(plan.inFlight.length > 0 ? [`${count(plan.inFlight.length)} already in a job (collected)`] : []),
    ...(plan.dead.length > 0
      ? [`${count(plan.dead.length)} dead-lettered (\`wavebatch requeue\` puts them back)`]
      : []),
  ];
  if (left.length > 0) lines.push(`left alone: ${left.join(', ')}`);
  if (plan.waiting.length > 0) {
    const shown = plan.waiting
      .slice(0, 3)
      .map((record) => `${record.id} (after ${record.predecessorId}, ${record.predecessorStatus})`);
    lines.push(
      `${counted(plan.waiting.length, 'record')} wait on a predecessor outside the selection that is not done: ` +
        `${shown.join(', ')}${plan.waiting.length > 3 ? ', …' : ''}; select the predecessors too, or run them first`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `run --dry-run`: the plan, the ids it would send and what they would cost. */
export function formatDryRun(
  plan: SelectionPlan,
  estimate: WorkloadEstimate,
  force: boolean,
  style: Style,
): string {
  const batch = estimate.modes.batch;
  const ids = plan.send.slice(0, LISTED).map((id) => `  ${id}${plan.redo.includes(id) ? ' (again)' : ''}`);
  const more =
    plan.send.length > LISTED ? [`  … and ${count(plan.send.length - LISTED)} more (--json lists all)`] : [];
  return [
    style.bold('dry run: nothing was sent'),
    formatSelection(plan, force).trimEnd(),
    ...(plan.send.length > 0 ? ['would send:', ...ids, ...more] : ['nothing to send']),
    `estimate: ${count(estimate.tokens.input)} input and ${count(estimate.tokens.output)} output tokens; ` +
      `${batch.costUsd === null ? 'no price for the model' : `${usd(batch.costUsd)} on the batch lane`}` +
      ` (\`wavebatch estimate\` explains the figures)`,
    '',
  ].join('\n');
}
