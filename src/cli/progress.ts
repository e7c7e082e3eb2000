import cliProgress from 'cli-progress';
import type { RunnerEvent } from '../runner/events.js';
import type { RunSummary } from '../runner/batch-runner.js';

/**
 * Draws the run's progress: bars per stage on a terminal, one line per poll otherwise (logs, CI).
 * Warnings and dead letters are printed as they happen.
 */
export class ProgressDisplay {
  private readonly bars: cliProgress.MultiBar | null;
  private readonly stage = new Map<string, cliProgress.SingleBar>();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.bars = stream.isTTY
      ? new cliProgress.MultiBar(
          { format: ' {stage} |{bar}| {value}/{total}', hideCursor: true, clearOnComplete: false, stream },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  handle = (event: RunnerEvent): void => {
    switch (event.type) {
      case 'sync':
        this.log(
          `synced ${event.seen} records (${event.inserted} new); ${event.markedDone} already done on disk, ${event.reopened} reopened`,
        );
        break;
      case 'job-submitted':
        this.log(
          `submitted ${event.kind} job ${event.jobId} -> ${event.remoteName} (${counted(event.requests, 'request')}, ~${event.estimatedTokens} tokens)`,
        );
        break;
      case 'job-adopted':
        this.log(`adopted job ${event.jobId} -> ${event.remoteName} (created before an interruption)`);
        break;
      case 'job-processed':
        this.log(`job ${event.jobId}: ${event.succeeded} succeeded, ${event.failed} failed`);
        break;
      case 'record-failed':
        if (event.outcome === 'dead')
          this.log(`dead letter ${event.recordId} [${event.cause}]: ${event.message}`);
        break;
      case 'quota-wait':
        this.log(
          `quota reached, waiting${event.retryDelayMs ? ` ${Math.ceil(event.retryDelayMs / 1000)}s` : ''}: ${event.reason}`,
        );
        break;
      case 'warning':
        this.log(`warning: ${event.message}`);
        break;
      case 'progress':
        this.update(event.counts.total, {
          'done      ': event.counts.done,
          'in flight ': event.counts.in_flight,
          'waiting   ': event.counts.ready + event.counts.blocked,
          'dead      ': event.counts.dead,
        });
        if (!this.bars) {
          const c = event.counts;
          this.log(
            `progress: ${c.done}/${c.total} done, ${c.in_flight} in flight, ${c.ready} ready, ${c.blocked} blocked, ${c.dead} dead; ${counted(event.activeJobs, 'active job')}`,
          );
        }
        break;
      default:
        break;
    }
  };

  /** Prints a warning line (outside the runner's events; also after stop). */
  warn(message: string): void {
    this.stream.write(`warning: ${message}\n`);
  }

  private update(total: number, values: Record<string, number>): void {
    if (!this.bars) return;
    for (const [stage, value] of Object.entries(values)) {
      let bar = this.stage.get(stage);
      if (!bar) {
        bar = this.bars.create(total, value, { stage });
        this.stage.set(stage, bar);
      }
      bar.setTotal(total);
      bar.update(value, { stage });
    }
  }

  private log(line: string): void {
    if (this.bars) this.bars.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  stop(): void {
    this.bars?.stop();
  }
}

/** The closing summary of a run, as plain lines. */
export function formatSummary(summary: RunSummary, outputsDir: string, reportPath?: string): string {
  const c = summary.counts;
  const pending = c.ready + c.blocked + c.in_flight;
  return [
    `records: ${c.done} done, ${c.dead} dead-lettered, ${pending} pending (${c.total} total)`,
    `jobs: ${summary.jobsSubmitted} submitted this run, ${summary.activeJobs} still active`,
    ...(summary.unconfirmedJobs > 0
      ? [
          `${counted(summary.unconfirmedJobs, 'job')} not confirmed created (the create call failed; see the warnings above): the next run adopts or creates ${summary.unconfirmedJobs === 1 ? 'it' : 'them'}`,
        ]
      : []),
    `tokens (all runs of this workload): ${summary.inputTokens} input, ${summary.outputTokens} output`,
    `cost: $${summary.costUsd.toFixed(6)} this run`,
    `time (this run): ${(summary.elapsedMs / 1000).toFixed(1)}s`,
    `outputs: ${outputsDir}`,
    ...(reportPath ? [`report: ${reportPath} (wavebatch report)`] : []),
    ...(c.dead > 0
      ? ['see `wavebatch failures` for the dead letters, `wavebatch requeue` to retry them']
      : []),
    ...(c.blocked > 0 && summary.finished
      ? [`${c.blocked} records wait behind dead letters in their chains`]
      : []),
  ].join('\n');
}

/** "1 request", "3 requests". */
function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
