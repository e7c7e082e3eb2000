import { describeError, WavebatchError } from '../errors.js';
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
  }
}

/**
 * Raised by the sync when the output folder ignores letter case (macOS's and Windows' defaults) and
 * ids differ only in case: `Page1.json` and `page1.json` are one file there, so one record's output
 * would overwrite the other's and the overwritten one would be sent (and paid for) again at each run.
 */
export class RecordIdCaseClashError extends WavebatchError {
  readonly code = 'RECORD_ID_CASE_CLASH';
  constructor(
    readonly groups: readonly (readonly string[])[],
    total: number,
    root: string,
  ) {
    const listed = groups.map((ids) => ids.map((id) => JSON.stringify(id)).join(' and ')).join('; ');
    const more = total > groups.length ? `; and ${total - groups.length} more` : '';
    super(
      `Record ids differ only in letter case, and the output folder ${root} ignores case, so the ids of ` +
        `each group would share one output file: ${listed}${more}. Make the ids differ by more than case ` +
        '(lower-case them in the source, for one), put outputs.path on a case-sensitive file system, ' +
        'or use outputs: { sink: jsonl }, whose shards hold any ids.',
    );
  }
}

/**
 * Raised when a record's output cannot be written because a file stands where its folder must be
 * (`out/letters` a file, id `letters/a`): the record's failure names that file, where it quoted
 * only the errno of a stat below it.
 */
export class OutputPathNotFolderError extends WavebatchError {
  readonly code = 'OUTPUT_PATH_NOT_FOLDER';
  constructor(
    readonly file: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${file} is a file, not a folder: the output ${path} cannot be written. Move the file away; ` +
        'once the record is a dead letter, `wavebatch requeue` it and the next run writes its kept answer.',
      options,
    );
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
  }
}

/**
 * The JSONL manifest could not be written (a full disk, a read-only file or folder, a folder in its
 * place). The run goes on: the shards and the state store hold every output, and the manifest only
 * mirrors the store's committed lengths, so it lags behind until a later checkpoint writes it.
 */
export class ManifestUnwritableError extends WavebatchError {
  readonly code = 'OUTPUT_MANIFEST_UNWRITABLE';
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(
      `The JSONL manifest ${path} could not be written (${describeError(options.cause)}). No output is lost: the shards and the ` +
        'state store hold them all, and the manifest, which lists how much of each shard readers may take, ' +
        'lags behind them until it is written again, at the next checkpoint of this run (after each batch ' +
        'job or synchronous round) or at the next start. Make the file writable (free space, permissions, ' +
        'nothing else in its place).',
      options,
    );
  }
}
