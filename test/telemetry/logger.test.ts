import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel } from '../../src/telemetry/logger.js';
import { runnerLogLine } from '../../src/telemetry/runner-log.js';
import { requestsOf } from '../../src/quantities.js';

describe('createLogger', () => {
  const previous = process.env.GEMINI_API_KEY;
  afterEach(() => {
    if (previous === undefined) delete process.env.GEMINI_API_KEY;
    else process.env.GEMINI_API_KEY = previous;
  });

  it('writes JSON lines at or above its level, with the fields given', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', level: 'info', write: (l) => lines.push(l), now: () => 0 });
    logger.log('debug', 'hidden');
    logger.log('info', 'shown', { jobId: 'j1', count: 2, skipped: undefined });
    logger.log('error', 'bad');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'shown', jobId: 'j1', count: 2 },
      { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'bad' },
    ]);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
  });

  it('writes text lines with the level named for warnings and errors', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'text', level: 'debug', write: (l) => lines.push(l) });
    logger.log('debug', 'a');
    logger.log('warn', 'b');
    logger.log('error', 'c');
    expect(lines).toEqual(['a\n', 'warning: b\n', 'error: c\n']);
  });

  it('writes a control character in a text line as text, so a quoted message cannot act on the terminal', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'text', level: 'debug', write: (l) => lines.push(l) });
    logger.log('warn', 'server said \u001b[2J\u001b]0;title\u0007 then\tmore\nlines');
    expect(lines).toEqual(['warning: server said \\u001b[2J\\u001b]0;title\\u0007 then\tmore\nlines\n']);
  });

  it('writes DEL and the C1 controls of a JSON line escaped (JSON leaves them raw), the same message read back', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l) });
    const message = 'server said \u009b2J\u009b31m and \u007f, \u001b[0m';
    logger.log('warn', message, { raw: '\u0085' });
    expect(lines[0]).not.toMatch(/[\u007f-\u009f]/);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: message, raw: '\u0085' });
  });

  it('redacts an API key by value from the message and every field', () => {
    process.env.GEMINI_API_KEY = 'logger-test-key-0a1b2c3d';
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l) });
    logger.log('warn', 'failed with key=logger-test-key-0a1b2c3d', { url: 'x?k=logger-test-key-0a1b2c3d' });
    expect(lines.join('')).not.toContain('logger-test-key-0a1b2c3d');
    expect(lines.join('')).toContain('[redacted]');
  });

  it('parses level names', () => {
    expect(parseLogLevel(' WARN ')).toBe('warn');
    expect(parseLogLevel('loud')).toBeUndefined();
  });
});

describe('runnerLogLine', () => {
  it('logs dead letters as warnings and retries at debug, naming the event', () => {
    const base = {
      type: 'record-failed',
      recordId: 'r1',
      jobId: 'j1',
      cause: 'safety',
      message: 'blocked',
    } as const;
    expect(runnerLogLine({ ...base, outcome: 'dead' })).toEqual({
      level: 'warn',
      message: 'dead letter r1 [safety]: blocked',
      fields: {
        event: 'record-failed',
        recordId: 'r1',
        jobId: 'j1',
        cause: 'safety',
        outcome: 'dead',
        attempt: undefined,
      },
    });
    expect(runnerLogLine({ ...base, outcome: 'retry' }).level).toBe('debug');
  });

  it("says a job's requests as the CLI does, with the records of grouped requests", () => {
    const job = {
      type: 'job-submitted',
      jobId: 'j1',
      remoteName: 'batches/abc',
      kind: 'file',
      model: 'gemini-2.5-flash',
      estimatedTokens: 12_500,
    } as const;
    expect(runnerLogLine({ ...job, requests: 2, records: 8 }).message).toBe(
      `submitted file job j1 -> batches/abc (${requestsOf(2, 8)}, ~12,500 tokens)`,
    );
    expect(runnerLogLine({ ...job, requests: 1, records: 1 }).message).toBe(
      'submitted file job j1 -> batches/abc (1 request, ~12,500 tokens)',
    );
  });

  it("logs a stalled job's action, and where a cancelled job's records went", () => {
    const stalled = {
      type: 'job-stalled',
      jobId: 'j1',
      remoteName: 'batches/abc',
      state: 'RUNNING',
      ageMs: 3 * 3_600_000,
      thresholdMs: 3_600_000,
    } as const;
    const cancelled = runnerLogLine({ ...stalled, action: 'cancelled', records: 'split' });
    expect(cancelled).toMatchObject({
      level: 'warn',
      fields: { event: 'job-stalled', jobId: 'j1', action: 'cancelled', records: 'split' },
    });
    expect(cancelled.message).toContain('cancelled');
    expect(runnerLogLine({ ...stalled, action: 'waiting' }).fields).not.toHaveProperty('records');
  });

  it('logs a failed run as an error', () => {
    const line = runnerLogLine({
      type: 'run-finished',
      runId: 3,
      mode: 'run',
      outcome: 'failed',
      at: 0,
      error: 'boom',
      counts: { blocked: 0, ready: 0, in_flight: 0, done: 1, dead: 0, total: 1 },
    });
    expect(line).toMatchObject({
      level: 'error',
      message: 'run 3 failed: boom',
      fields: { runId: 3, outcome: 'failed' },
    });
  });
});
