import { WavebatchError } from '../errors.js';
/** One problem in a config file: where it is and what is wrong. */
export interface ConfigIssue {
  /** The file the problem is in (the config itself, or a file it references). */
  file: string;
  line?: number;
  /** Dotted key path in the config, e.g. `execution.max_retries`. */
  key?: string;
  message: string;
}

export type ConfigErrorCode =
  /** The config file does not exist. */
  | 'CONFIG_NOT_FOUND'
  /** The config (or the response schema file) is not well-formed YAML / JSON. */
  | 'CONFIG_SYNTAX'
  /** Keys or values are wrong; `issues` lists every one of them. */
  | 'CONFIG_INVALID'
  /** A file or folder named by the config (source, prompt dir, schema, allow list) does not exist. */
  | 'CONFIG_FILE_MISSING'
  /** A TypeScript / JavaScript config threw while being imported. */
  | 'CONFIG_IMPORT_FAILED'
  /** data_dir or outputs is a file, or lies below one, so it can never be a folder. */
  | 'CONFIG_PATH_NOT_FOLDER';

/** A config that cannot be used; the message lists every issue with its file, line and key. */
export class ConfigError extends WavebatchError {
  readonly code: ConfigErrorCode;
  /** The file of the first issue. */
  readonly file: string;
  readonly line?: number;
  readonly key?: string;
  readonly issues: readonly ConfigIssue[];

  constructor(code: ConfigErrorCode, issues: readonly [ConfigIssue, ...ConfigIssue[]]) {
    super(issues.map(formatIssue).join('\n'));
    this.code = code;
    this.issues = issues;
    const first = issues[0];
    this.file = first.file;
    if (first.line !== undefined) this.line = first.line;
    if (first.key !== undefined) this.key = first.key;
  }
}

/** `wavebatch.yaml line 18: execution.max_retries: expected a whole number >= 0, got "lots"` */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file} line ${issue.line}`;
  return issue.key ? `${where}: ${issue.key}: ${issue.message}` : `${where}: ${issue.message}`;
}
