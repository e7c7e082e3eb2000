/** A file given to the model alongside the prompt (a scanned page, a PDF). */
export interface MediaInput {
  /** Absolute path on disk. */
  path: string;
  mimeType: string;
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
