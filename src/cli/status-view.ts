import { relative } from 'node:path';
import type { WorkloadStatus } from '../service/index.js';
import { count, counted, duration, requestsOf, usd } from '../quantities.js';
import { PLAIN, type Style } from './style.js';
import { unknownCostNote } from '../telemetry/unanswered-calls.js';

/** Active jobs listed one per line; more are summed up in one line. */
const JOBS_SHOWN = 10;

/** The human screen of `wavebatch status`: one labelled line per topic, then what to do next. */
export function formatStatus(status: WorkloadStatus, style: Style = PLAIN, cwd = process.cwd()): string {
  const r = status.records;
  const c = status.chains;
  const label = (text: string) => style.bold(text.padEnd(10));
  const lines: string[] = [];
  lines.push(`${style.bold(`workload ${status.workload}`)}  ${style.dim(relative(cwd, status.configPath))}`);
  if (r.total === 0) {
    lines.push('no records yet: `wavebatch run` (or `run-once`) reads the source into the state store');
    return `${lines.join('\n')}\n`;
  }
  const dead = r.dead > 0 ? style.bad(`${count(r.dead)} dead`) : '0 dead';
  lines.push(
    `${label('records')}${count(r.total)}: ${style.good(`${count(r.done)} done`)}, ${count(r.inFlight)} in flight, ` +
      `${count(r.ready)} ready, ${count(r.blocked)} blocked, ${dead}`,
  );
  const blocked =
    c.blocked > 0 ? style.warn(`${count(c.blocked)} blocked behind a dead letter`) : '0 blocked';
  lines.push(
    `${label('chains')}${count(c.total)}: ${count(c.done)} done, ${count(c.inProgress)} in progress, ` +
      `${count(c.notStarted)} not started, ${blocked}`,
  );
  lines.push(...jobLines(status, style, label));
  const u = status.usage;
  const b = status.billed;
  lines.push(
    b
      ? `${label('tokens')}${count(b.inputTokens)} input, ${count(b.outputTokens)} output billed ` +
          `(${counted(b.requests, 'request')}, ${counted(u.completedRecords, 'completed record')})`
      : `${label('tokens')}${count(u.inputTokens)} input, ${count(u.outputTokens)} output ` +
          `(${counted(u.completedRecords, 'completed record')})`,
  );
  lines.push(`${label('cost')}${costLine(status)}`);
  lines.push(`${label('rate')}${rateLine(status)}`);
  lines.push(`${label('eta')}${etaLine(status)}`);
  if (status.staleOutputs !== null && status.staleOutputs > 0)
    lines.push(
      `${label('stale')}${counted(status.staleOutputs, 'output')} made by another prompt, model or input`,
    );
  if (status.failures.total > 0) {
    const causes = status.failures.byCause.map((entry) => `${entry.cause} ${count(entry.count)}`).join(', ');
    lines.push(`${label('failures')}${count(status.failures.total)} logged (${causes})`);
  }
  lines.push(...nextSteps(status).map((step) => style.dim(`next: ${step}`)));
  return `${lines.join('\n')}\n`;
}

function jobLines(status: WorkloadStatus, style: Style, label: (text: string) => string): string[] {
  const jobs = status.activeJobs;
  if (jobs.length === 0) return [`${label('jobs')}none active`];
  const byLane = Object.entries(status.lanes)
    .map(([lane, entry]) => `${lane} ${entry.activeJobs} (${requestsOf(entry.requests, entry.records)})`)
    .join(', ');
  const lines = [`${label('jobs')}${counted(jobs.length, 'active job')}: ${byLane}`];
  for (const job of jobs.slice(0, JOBS_SHOWN)) {
    const flag = job.stalled ? `  ${style.warn('STALLED')}` : '';
    lines.push(
      `${' '.repeat(12)}${job.remoteName ?? job.id}  ${job.lane}  ${job.state.padEnd(9)}  ` +
        `${requestsOf(job.requests, job.records)}  ${duration(job.ageMs)} old${flag}`,
    );
  }
  if (jobs.length > JOBS_SHOWN) lines.push(`${' '.repeat(12)}… and ${jobs.length - JOBS_SHOWN} more`);
  return lines;
}

function costLine(status: WorkloadStatus): string {
  const cost = status.cost;
  const basis = `${cost.lane} prices of ${cost.model} as of ${cost.priceListAsOf}`;
  if (cost.soFar === null)
    return `unknown: the price list has no ${cost.model} (set \`pricing:\` in the config)`;
  const projected = cost.projected === null ? '' : `, ~${usd(cost.projected)} projected in all`;
  const unknown = status.billed?.unknownCostRequests ?? 0;
  const floor = unknown > 0 ? `; ${unknownCostNote(unknown)}` : '';
  return `${usd(cost.soFar)} so far${projected} (${basis})${floor}`;
}

function rateLine(status: WorkloadStatus): string {
  const t = status.throughput;
  const parts: string[] = [];
  if (t.recordsPerHour !== null)
    parts.push(`${count(t.recordsPerHour)} records/h over the last ${duration(t.windowMs)}`);
  if (t.jobTurnaroundMs !== null) parts.push(`job turnaround ${duration(t.jobTurnaroundMs)} (median)`);
  return parts.length > 0 ? parts.join('; ') : 'not measured yet (no record completed)';
}

function etaLine(status: WorkloadStatus): string {
  const eta = status.eta;
  if (eta.remainingRecords === 0) return 'nothing left to run';
  const depth = eta.longestChain > 1 ? `; longest chain ${count(eta.longestChain)} records to go` : '';
  if (eta.remainingMs === null)
    return `unknown until a record completes (${counted(eta.remainingRecords, 'record')} left${depth})`;
  return `~${duration(eta.remainingMs)} (${counted(eta.remainingRecords, 'record')} left${depth})`;
}

/** What the user can do about what the status shows. */
function nextSteps(status: WorkloadStatus): string[] {
  const steps: string[] = [];
  if (status.records.dead > 0)
    steps.push('`wavebatch failures --dead` shows why records died; `wavebatch requeue` retries them');
  if (status.eta.remainingRecords > 0 && status.activeJobs.length === 0)
    steps.push('`wavebatch run` submits the records that are left');
  return steps;
}
