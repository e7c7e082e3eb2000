import cliProgress from 'cli-progress';
import type { RunnerEvent } from '../runner/events.js';
import type { RunSummary } from '../runner/batch-runner.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../telemetry/logger.js';
import { runnerLogLine } from '../telemetry/runner-log.js';

export interface ProgressDisplayOptions {
  stream?: NodeJS.WriteStream;
  /** Lines below this level are not written (default `info`). */
  level?: LogLevel;
  /** `json` lines or `text`; default: text on a terminal, JSON lines otherwise. */
  format?: LogFormat;
}

/**
 * Draws the run's progress and logs what it does: bars per stage and lines for a person on a
 * terminal; structured JSON lines otherwise (log collectors, CI), one per event at or above the
 * level. Every line is redacted before it is written.
 */
export class ProgressDisplay {
  private readonly bars: cliProgress.MultiBar | null;
  private readonly stage = new Map<string, cliProgress.SingleBar>();
  private readonly stream: NodeJS.WriteStream;
  private stopped = false;
  readonly logger: Logger;

  constructor(options: ProgressDisplayOptions = {}) {
    const stream = options.stream ?? process.stderr;
    this.stream = stream;
    const format = options.format ?? (stream.isTTY ? 'text' : 'json');
    this.bars =
      stream.isTTY && format === 'text'
        ? new cliProgress.MultiBar(
            { format: ' {stage} |{bar}| {value}/{total}', hideCursor: true, clearOnComplete: false, stream },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.logger = createLogger({
      format,
      level: options.level ?? 'info',
      write: (line) => (this.bars && !this.stopped ? this.bars.log(line) : this.stream.write(line)),
    });
  }

  handle = (event: RunnerEvent): void => {
    if (event.type === 'progress' && this.bars) {
      // On a terminal the bars show progress; a line per poll would scroll it away.
      this.update(event.counts.total, {
        'done      ': event.counts.done,
        'in flight ': event.counts.in_flight,
        'waiting   ': event.counts.ready + event.counts.blocked,
        'dead      ': event.counts.dead,
      });
      return;
    }
    const { level, message, fields } = runnerLogLine(event);
    this.logger.log(level, message, fields);
  };

  /** Logs a warning (outside the runner's events; also after stop). */
  warn(message: string): void {
    this.stop();
    this.logger.log('warn', message);
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

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
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
