import { counted } from '../quantities.js';

/** What to write for one line: the count of warnings held back before it, then the line if new. */
export interface RepeatDecision {
  /** Repeated warnings held back since the last news, owed to the log now (0: nothing owed). */
  owed: number;
  print: boolean;
}

/** Distinct warnings remembered between two pieces of news; beyond it the memory starts again. */
const MAX_REMEMBERED = 1000;

/**
 * Decides which progress and warning lines reach a log, so that nothing unchanged is printed twice:
 * a run that waits on an unreachable API for hours prints its state once, each distinct warning
 * (and retry) once, and how many repeats it held back when there is news (a job submitted or
 * processed, a dead letter) or when the run ends.
 */
export class RepeatFilter {
  private lastProgress: string | null = null;
  private readonly warnings = new Set<string>();
  private repeats = 0;
  /** Per reason, held records not shown since the last news (one shown per reason in between). */
  private readonly held = new Map<string, number>();

  /**
   * A progress line: printed only when it differs from the last progress line printed. It is not
   * news: warnings that keep coming while counts move are still held back.
   */
  progress(line: string): RepeatDecision {
    if (line === this.lastProgress) return { owed: 0, print: false };
    this.lastProgress = line;
    return { owed: 0, print: true };
  }

  /** A warning or retry, by what makes it the same as another (not its attempt number or delay). */
  warning(key: string): RepeatDecision {
    if (this.warnings.has(key)) {
      this.repeats++;
      return { owed: 0, print: false };
    }
    if (this.warnings.size >= MAX_REMEMBERED) this.warnings.clear();
    this.warnings.add(key);
    return { owed: 0, print: true };
  }

  /**
   * A record held (not sent: `max_cost`, `no_room`), by why: the first of each reason is printed, the
   * others counted (see `flushHeld`) until the next news. A backlog held for room is thousands of
   * records, a line each, every one saying the same.
   */
  heldRecord(reason: string): RepeatDecision {
    const count = this.held.get(reason);
    this.held.set(reason, count === undefined ? 0 : count + 1);
    return { owed: 0, print: count === undefined };
  }

  /** The held records not shown, per reason; the counts restart, and the next of each reason is shown. */
  flushHeld(): Array<{ reason: string; records: number }> {
    const owed = [...this.held].map(([reason, records]) => ({ reason, records }));
    this.held.clear();
    return owed.filter(({ records }) => records > 0);
  }

  /** News: always printed, after the count held back; every warning after it is news again. */
  other(): RepeatDecision {
    this.warnings.clear();
    return { owed: this.flush(), print: true };
  }

  /** How many repeats were held back; the count restarts. */
  flush(): number {
    const owed = this.repeats;
    this.repeats = 0;
    return owed;
  }
}

/** The line that stands for `count` held-back repeats. */
export function repeatedWarningLine(count: number): string {
  return `(${count} more repeat${count === 1 ? '' : 's'} of the warnings above not shown)`;
}

/** The line that stands for `records` held for `reason` and not shown. */
export function heldRecordsLine(records: number, reason: string): string {
  return `(${counted(records, 'more record')} held [${reason}] not shown; --log-level debug lists each)`;
}
