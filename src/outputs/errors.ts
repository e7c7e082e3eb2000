import { WavebatchError } from '../errors.js';
/** Raised when a record id cannot name a file under the output root (it would escape it, or hide itself). */
export class OutputPathError extends WavebatchError {
  readonly code = 'RECORD_ID_INVALID';
  constructor(
    readonly id: string,
    reason: string,
  ) {
    super(
      `Record id ${JSON.stringify(id)} cannot name an output file: ${reason}. Change how the source derives ids.`,
    );
    this.name = 'OutputPathError';
  }
}

/**
 * Raised by the sync when one record's output file is the folder another record's output needs
 * (`a` is `a.json`, `a.json/b` needs the folder `a.json`): found before anything is sent, not by the
 * write after the request was paid for.
 */
export class OutputPathClashError extends WavebatchError {
  readonly code = 'RECORD_ID_CLASH';
  constructor(
    readonly fileId: string,
    readonly folderId: string,
    fileName: string,
  ) {
    super(
      `Record ids ${JSON.stringify(fileId)} and ${JSON.stringify(folderId)} cannot both have an output file: ` +
        `${fileName} would be the first one's file and the second one's folder. Rename one of them ` +
        '(or use outputs: { sink: jsonl }, whose shards hold any ids).',
    );
    this.name = 'OutputPathClashError';
  }
}

/** Raised when an output file exists but is not a readable output document. */
export class OutputCorruptError extends WavebatchError {
  readonly code = 'OUTPUT_CORRUPT';
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Output file ${path} is corrupt (${reason}); delete it to have the record run again.`, options);
    this.name = 'OutputCorruptError';
  }
}

/**
 * Raised at start-up when the configured output sink is not the one that holds the done records:
 * running on would send every done record again (and pay for it again).
 */
export class OutputSinkChangedError extends WavebatchError {
  readonly code = 'CONFIG_OUTPUT_SINK_CHANGED';
  constructor(configured: 'files' | 'jsonl', other: 'files' | 'jsonl', root: string) {
    super(
      `outputs.sink is ${configured} (${root}), but the state store holds records completed into a ${other} sink. ` +
        `Set outputs.sink back to ${other} to go on; to switch, export the outputs first ` +
        '(`wavebatch export`), then `wavebatch reset` and run again (every record is then sent again).',
    );
    this.name = 'OutputSinkChangedError';
  }
}

/** Raised when a JSONL shard's committed line is not the output document the state store says it is. */
export class ShardCorruptError extends WavebatchError {
  readonly code = 'OUTPUT_CORRUPT';
  constructor(path: string, offset: number, reason: string) {
    super(
      `Output shard ${path} is corrupt at byte ${offset} (${reason}); move the shard aside and run again ` +
        'to have its records run again.',
    );
    this.name = 'ShardCorruptError';
  }
}
