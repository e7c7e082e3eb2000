/** A file given to the model alongside the prompt (a scanned page, a PDF). */
export interface MediaInput {
  /** Absolute path on disk. */
  path: string;
  mimeType: string;
  /**
   * The folder the file must resolve inside (after links) when it is read: the source's media root,
   * set from the config as requests are built; never stored with the record.
   */
  confinedTo?: string;
}

/** JSON-compatible template variables taken from a source row or a path. */
export type RecordVars = Record<string, string | number | boolean | null>;

/**
 * One unit of work. Records sharing a `chainId` run strictly in `position` order: each one's prompt
 * receives its predecessor's output. A chain of one record is simply an independent record.
 */
export interface WorkloadRecord {
  /** Stable id, unique in the workload; also names the output file (see outputs/). */
  id: string;
  chainId: string;
  position: number;
  vars: RecordVars;
  media: MediaInput[];
  /**
   * Where the source holds it (`data.jsonl line 12`, `the source function (record 3)`), for
   * messages about duplicates; not stored.
   */
  origin?: string;
}

/**
 * What a function source (or `hooks.source`) yields: a record whose optional parts wavebatch fills.
 * Without `chainId` it stands alone (a chain of its own id); without `position` it takes its order of
 * appearance in its chain; `vars` defaults to `{}` and `media` to `[]` (relative media paths resolve
 * against the config's folder). It becomes a `WorkloadRecord`.
 */
export interface SourceRecord {
  id: string;
  chainId?: string;
  position?: number;
  vars?: RecordVars;
  media?: MediaInput[];
}
