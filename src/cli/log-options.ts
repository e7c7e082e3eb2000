import { Option } from 'commander';
import { WavebatchError } from '../errors.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  parseLogLevel,
  type LogFormat,
  type LogLevel,
} from '../telemetry/logger.js';

/** Raised when WAVEBATCH_LOG_LEVEL or WAVEBATCH_LOG_FORMAT holds something else than a level or format. */
export class LogSettingError extends WavebatchError {
  readonly code = 'INPUT_LOG_SETTING';
  constructor(variable: string, value: string, allowed: readonly string[]) {
    super(`${variable} must be one of ${allowed.join(', ')}, got "${value}".`);
  }
}

/** What `--log-level` and `--log-format` set. */
export interface LogOptions {
  logLevel?: LogLevel;
  logFormat?: LogFormat | 'auto';
}

/** `--log-level` and `--log-format`, for the commands that log as they work. */
export function logOptions(): Option[] {
  return [
    new Option(
      '--log-level <level>',
      'least severe lines written (default: WAVEBATCH_LOG_LEVEL, else info)',
    ).choices(LOG_LEVELS),
    new Option(
      '--log-format <format>',
      'json lines or text (default: WAVEBATCH_LOG_FORMAT, else text on a terminal, json otherwise)',
    ).choices(['auto', ...LOG_FORMATS]),
  ];
}

/** The level and format from the flags, then the environment; undefined format means "by terminal". */
export function logSettings(
  options: LogOptions,
  env: NodeJS.ProcessEnv = process.env,
): { level: LogLevel; format: LogFormat | undefined } {
  const envLevel = env.WAVEBATCH_LOG_LEVEL;
  const level = options.logLevel ?? parseLogLevel(envLevel);
  if (!level && envLevel) throw new LogSettingError('WAVEBATCH_LOG_LEVEL', envLevel, LOG_LEVELS);
  const envFormat = env.WAVEBATCH_LOG_FORMAT?.trim().toLowerCase();
  const format = options.logFormat ?? envFormat;
  if (format && format !== 'auto' && !(LOG_FORMATS as readonly string[]).includes(format))
    throw new LogSettingError('WAVEBATCH_LOG_FORMAT', env.WAVEBATCH_LOG_FORMAT ?? '', [
      'auto',
      ...LOG_FORMATS,
    ]);
  return { level: level ?? 'info', format: format && format !== 'auto' ? (format as LogFormat) : undefined };
}
