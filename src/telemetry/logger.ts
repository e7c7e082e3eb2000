import { printable } from '../printable.js';
import { redact } from '../secrets/redact.js';

/** Severity, least to most. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one JSON object per line (for log collectors); `text`: lines for a person. */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Fields of a structured log line besides time, level and message. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Writes log lines at or above a level. */
export interface Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** True when a line of `level` would be written. */
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Where lines go (standard error by default). */
  write: (line: string) => void;
  format: LogFormat;
  level: LogLevel;
  now?: () => number;
}

/**
 * A logger whose every line is redacted (API keys by value, key-shaped tokens) just before it is
 * written, whatever the message or fields hold. JSON lines are `{"time", "level", "msg", ...fields}`;
 * text lines are the message, `warning:` / `error:` in front of those levels.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const now = options.now ?? Date.now;
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold;
  return {
    level: options.level,
    format: options.format,
    enabled,
    log(level, message, fields = {}) {
      if (!enabled(level)) return;
      // JSON escapes ESC but leaves DEL and the C1 controls (0x9b, a one-byte ESC [) raw; written as
      // `\u009b` they are the same string to a JSON reader, and nothing to a terminal.
      const line =
        options.format === 'json'
          ? printable(
              JSON.stringify({
                time: new Date(now()).toISOString(),
                level,
                msg: message,
                ...definedFields(fields),
              }),
            )
          : `${level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : ''}${printable(message)}`;
      options.write(`${redact(line)}\n`);
    },
  };
}

/** The level named by `text`, or undefined. */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  const lower = text?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower ?? '') ? (lower as LogLevel) : undefined;
}

function definedFields(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
