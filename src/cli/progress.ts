import cliProgress from 'cli-progress';
import type { RunnerEvent } from '../runner/events.js';
import type { RunSummary } from '../runner/run-summary.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../telemetry/logger.js';
import { runnerLogLine } from '../telemetry/runner-log.js';
import { unknownCostNote } from '../telemetry/unanswered-calls.js';
import { count, counted, duration } from '../quantities.js';
import { heldRecordsLine, RepeatFilter, repeatedWarningLine, type RepeatDecision } from './repeat-filter.js';

export interface ProgressDisplayOptions {
  stream?: NodeJS.WriteStream;
  /** Lines below this level are not written (default `info`). */
  level?: LogLevel;
  /** `json` lines or `text`; default: text on a terminal, JSON lines otherwise. */
  format?: LogFormat;
  /** Read for CI and TERM (bars or not); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Whether progress is drawn as bars redrawn in place, or as lines (logs, pipes, CI). */
export type ProgressMode = 'bars' | 'lines';

/** Bars only on an interactive terminal: not in a pipe or file, not in CI, not on TERM=dumb. */
export function progressMode(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): ProgressMode {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return stream.isTTY === true && !ci && env.TERM !== 'dumb' ? 'bars' : 'lines';
}

/**
 * Draws the run's progress and logs what it does: bars per stage and lines for a person on an
 * interactive terminal; text lines in CI on a terminal; structured JSON lines otherwise (log
 * collectors), one per event at or above the level. Every line is written at once (never held in a
 * buffer a stopping run could lose), redacted, and a line that only repeats the one before it
 * (unchanged progress, the same warning again) is not written again (see RepeatFilter).
 */
export class ProgressDisplay {
  private readonly bars: cliProgress.MultiBar | null;
  private readonly stage = new Map<string, cliProgress.SingleBar>();
  private readonly stream: NodeJS.WriteStream;
  private readonly repeats = new RepeatFilter();
  private stopped = false;
  readonly logger: Logger;

  constructor(options: ProgressDisplayOptions = {}) {
    const stream = options.stream ?? process.stderr;
    this.stream = stream;
    const format = options.format ?? (stream.isTTY ? 'text' : 'json');
    this.bars =
      progressMode(stream, options.env) === 'bars' && format === 'text'
        ? new cliProgress.MultiBar(
            {
              format: ' {stage} |{bar}| {value}/{total}',
              hideCursor: true,
              clearOnComplete: false,
              // Ctrl-C is the run's to handle (graceful stop); stop() restores the cursor.
              gracefulExit: false,
              stream,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.logger = createLogger({
      format,
      level: options.level ?? 'info',
      write: (line) => this.write(line),
    });
  }

  handle = (event: RunnerEvent): void => {
    if (event.type === 'progress' && this.bars && !this.stopped) {
      // On a terminal the bars show progress; a line per poll would scroll it away.
      this.update(event.counts.total, {
        'done      ': event.counts.done,
        'in flight ': event.counts.in_flight,
        'waiting   ': event.counts.ready + event.counts.blocked,
        'dead      ': event.counts.dead,
      });
      return;
    }
    // A failed run throws its error, which the command prints last with its code and exit code
    // (`error [CODE]: …`); in text the log's `run 1 failed: …` said it a second time just before.
    // A log collector keeps the JSON event (`run-finished`, `outcome: failed`).
    if (event.type === 'run-finished' && event.outcome === 'failed' && this.logger.format === 'text') return;
    const { level, message, fields } = runnerLogLine(event);
    if (!this.logger.enabled(level)) return;
    // Below debug, a held record is one line per reason between two pieces of news, not one each.
    const held = event.type === 'lane-decision' && event.lane === null && !this.logger.enabled('debug');
    const decision =
      event.type === 'progress'
        ? this.repeats.progress(message)
        : event.type === 'retry'
          ? this.repeats.warning(`${event.operation} failed (${event.message})`)
          : event.type === 'warning' || event.type === 'quota-wait'
            ? this.repeats.warning(message)
            : held
              ? this.repeats.heldRecord(event.reason)
              : this.news();
    this.owe(decision.owed);
    if (decision.print) this.logger.log(level, message, fields);
  };

  /** Logs a warning (outside the runner's events; also after stop). */
  warn(message: string): void {
    this.stop();
    this.logger.log('warn', message);
  }

  private owe(count: number): void {
    if (count > 0) this.logger.log('warn', repeatedWarningLine(count), { event: 'repeated', repeats: count });
  }

  /** News: the held records not shown are counted first. */
  private news(): RepeatDecision {
    this.oweHeld();
    return this.repeats.other();
  }

  /** The held records not shown, a line per reason: at the next news, and when the run ends. */
  private oweHeld(): void {
    for (const { reason, records } of this.repeats.flushHeld())
      this.logger.log('info', heldRecordsLine(records, reason), { event: 'held', reason, records });
  }

  private write(line: string): void {
    if (this.bars?.isActive) {
      // Above the bars, drawn now: the bars' own log buffer is written only on their next redraw,
      // and the last lines of a run were lost when it stopped before that.
      this.bars.log(line);
      this.bars.update();
    } else {
      this.stream.write(line);
    }
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

  /** Ends the display: owed lines written, the bars' last state drawn, the cursor back. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.oweHeld();
    this.owe(this.repeats.flush());
    this.stopped = true;
    if (this.bars?.isActive) this.bars.stop();
  }
}

/** The closing summary of a run, as plain lines. */
export function formatSummary(
  summary: RunSummary,
  outputsDir: string,
  reportPath?: string,
  selective = false,
): string {
  const c = summary.counts;
  const pending = c.ready + c.blocked + c.in_flight;
  return [
    `${selective ? 'selected records' : 'records'}: ${count(c.done)} done, ${count(c.dead)} dead-lettered, ${count(pending)} pending (${count(c.total)} total)`,
    `jobs: ${count(summary.jobsSubmitted)} submitted this run, ${count(summary.activeJobs)} still active`,
    ...(summary.unconfirmedJobs > 0
      ? [
          `${counted(summary.unconfirmedJobs, 'job')} not confirmed created (the create call failed; see the warnings above): the next run adopts or creates ${summary.unconfirmedJobs === 1 ? 'it' : 'them'}`,
        ]
      : []),
    ...(summary.unansweredRequests > 0
      ? [
          `${counted(summary.unansweredRequests, 'record')} not answered (the API failed ${summary.unansweredRequests === 1 ? 'its request' : 'their requests'} through every retry; see the warnings above): the next run sends ${summary.unansweredRequests === 1 ? 'it' : 'them'} again`,
        ]
      : []),
    `tokens (all runs of this workload): ${count(summary.inputTokens)} input, ${count(summary.outputTokens)} output`,
    summary.costUsd === null
      ? 'cost: unknown this run (no price for the model: add it under `pricing:` in the config)'
      : `cost: $${summary.costUsd.toFixed(6)} this run${summary.unknownCostRequests > 0 ? `; ${unknownCostNote(summary.unknownCostRequests)}` : ''}`,
    ...laneLines(summary),
    `time (this run): ${(summary.elapsedMs / 1000).toFixed(1)}s`,
    ...batchOnlyLines(summary),
    `outputs: ${outputsDir}`,
    ...(reportPath ? [`report: ${reportPath} (wavebatch report)`] : []),
    ...(c.dead > 0
      ? ['see `wavebatch failures` for the dead letters, `wavebatch requeue` to retry them']
      : []),
    ...(c.blocked > 0 && summary.finished
      ? [
          selective
            ? `${counted(c.blocked, 'selected record')} ${c.blocked === 1 ? 'waits' : 'wait'} on records outside the selection or behind dead letters`
            : `${counted(c.blocked, 'record')} ${c.blocked === 1 ? 'waits' : 'wait'} behind dead letters in ${c.blocked === 1 ? 'its chain' : 'their chains'}`,
        ]
      : []),
  ].join('\n');
}

/** Records and cost per lane, when the run used a lane besides batch (a batch-only summary stays as it was). */
function laneLines(summary: RunSummary): string[] {
  const lanes = Object.entries(summary.lanes ?? {});
  if (lanes.length === 0 || lanes.every(([lane]) => lane === 'batch')) return [];
  const parts = lanes.map(
    ([lane, figures]) =>
      `${lane} ${count(figures.done)} done in ${counted(figures.attempts, 'attempt')} ($${figures.costUsd.toFixed(6)}${sentFor(figures.reasons)})`,
  );
  return [`lanes: ${parts.join(', ')}`];
}

/** Why `auto` sent records on a lane: "; sent for: deadline 4, best effort 2" (nothing in the fixed modes). */
function sentFor(reasons: Partial<Record<string, number>> | undefined): string {
  const counts = Object.entries(reasons ?? {}).filter(([, records]) => (records ?? 0) > 0);
  if (counts.length === 0) return '';
  return `; sent for: ${counts.map(([reason, records]) => `${reason.replace(/_/g, ' ')} ${count(records ?? 0)}`).join(', ')}`;
}

/** An auto run's time against batch-only: an estimate, and said to be one. */
function batchOnlyLines(summary: RunSummary): string[] {
  const compared = summary.batchOnly;
  if (!compared) return [];
  const span = (range: { low: number; high: number }) =>
    range.low === range.high ? duration(range.low) : `${duration(range.low)}–${duration(range.high)}`;
  const basis =
    compared.turnaroundSamples > 0
      ? `the turnaround learned from ${counted(compared.turnaroundSamples, 'batch job')}`
      : 'the assumed batch turnaround (no batch job measured yet)';
  return [
    `time saved vs batch-only: ~${span(compared.savedMs)} (estimate: batch-only would take ${span(compared.projectedMs)} at ${basis})`,
  ];
}
