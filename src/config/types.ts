import type { LimitOverrides, PriceOverrides } from '../pricing/index.js';
import type { SourceRecord } from '../workload/record.js';

/** A numeric range filter on a folder level; names that are not numbers never match. */
export interface LevelRange {
  min?: number | undefined;
  max?: number | undefined;
}

/** A folder tree: each leaf folder is a chain, its files are pages. */
export interface DirectorySourceConfig {
  type: 'directory';
  /** Absolute. */
  path: string;
  levels?: string[] | undefined;
  /** Absolute path of the allow-list file. */
  allow_list?: string | undefined;
  filters?: Record<string, Array<string | number> | LevelRange> | undefined;
  /** Lower-case, with a leading dot. */
  extensions: string[];
  /** Follow symbolic links that resolve outside `path` (otherwise they stop the sync). */
  follow_symlinks: boolean;
}

/** A data file of rows (JSON Lines, a JSON array, or CSV with a header). */
export interface TableSourceConfig {
  type: 'jsonl' | 'json' | 'csv';
  /** Absolute. */
  path: string;
  id_field: string;
  chain_field?: string | undefined;
  position_field?: string | undefined;
  media_field?: string | undefined;
  /** Absolute; media paths must resolve inside it (default: the data file's folder). */
  media_root?: string | undefined;
  /** Largest JSONL line / CSV row; a JSON array file may not be larger as a whole. */
  max_record_bytes: number;
}

/** Records from a function (TypeScript / JavaScript configs). */
export interface FunctionSourceConfig {
  type: 'function';
  records: () => AsyncIterable<SourceRecord>;
}

export type SourceConfig = DirectorySourceConfig | TableSourceConfig | FunctionSourceConfig;

/** `execution.mode`: the lane every record goes to, or `auto` to choose per record. */
export type ExecutionModeConfig = 'batch' | 'flex' | 'realtime' | 'auto';

export interface ExecutionConfig {
  mode: ExecutionModeConfig;
  /** Synchronous requests in flight at once, all lanes together. */
  sync_concurrency: number;
  /** Milliseconds after the run starts, or an epoch-ms time. */
  deadline?: { afterMs: number } | { at: number } | undefined;
  /** USD a run may send (estimated before sending). */
  max_cost?: number | undefined;
  /** Milliseconds a stopped run waits for the synchronous requests in the air (0: none); unset: their timeout, at most 60 s. */
  stop_grace?: number | undefined;
  max_retries: number;
  max_concurrent_jobs: number;
  max_requests_per_job: number;
  /** Records rendered into one request (1: one record per request). */
  records_per_request: number;
  max_job_bytes: number;
  inline_max_bytes: number;
  /** Media at or above this size go through the Files API; smaller ones are inlined. */
  media_upload_bytes: number;
  enqueued_token_budget: number;
  /** Milliseconds. */
  poll_interval: number;
  /** Queue again, at every run, the done records whose outputs are stale. */
  redo_stale: boolean;
  /** Milliseconds without any answer from the API after which a run stops. */
  give_up_after: number;
  /** A job is stalled once older than this many times the learned turnaround… */
  stall_factor: number;
  /** …and never before this many milliseconds. */
  stall_min_age: number;
  /** What is done about a stalled job besides reporting it. */
  stall_action: 'wait' | 'cancel' | 'split';
}

/** `outputs.assemble`: one document per chain, its outputs in position order. */
export interface AssembleConfig {
  by: 'chain';
  order: 'position';
  format: 'markdown' | 'jsonl';
  /** Folder of the documents, absolute; never inside the output folder, nor holding it. */
  path: string;
  /** Markdown: dot path of each output's text. */
  field?: string | undefined;
  /** Markdown: between two records' texts. */
  separator: string;
}

/** A validated workload config: defaults applied, every path absolute, the response schema loaded. */
export interface LoadedConfig {
  /** Absolute path of the config file. */
  configPath: string;
  name: string;
  /** Absolute. */
  data_dir: string;
  /** The output folder, absolute. */
  outputs: string;
  /** How outputs are kept in that folder (`outputs.sink`; files when `outputs` is a path). */
  output_sink: { kind: 'files' | 'jsonl'; shard_bytes: number };
  /** `outputs.assemble`, when configured. */
  assemble?: AssembleConfig | undefined;
  source: SourceConfig;
  prompt: { dir: string; name: string; version: string };
  context?: { field?: string | undefined } | undefined;
  model: {
    name: string;
    generation_config: Record<string, unknown>;
    /** A JSON Schema object. */
    response_schema?: unknown;
    /** The file it was read from (`model.response_schema_file`), absolute. */
    response_schema_file?: string | undefined;
  };
  execution: ExecutionConfig;
  api: { base_url?: string | undefined };
  /** Prices that differ from the built-in list (`pricing:`). */
  pricing: PriceOverrides;
  /** Quotas that differ from the built-in list (`limits:`). */
  limits: LimitOverrides;
  /** From GEMINI_API_KEY, else GOOGLE_API_KEY; never from the file. */
  apiKey?: string | undefined;
  hooks?:
    | {
        extractContext?: ((predecessorOutput: unknown) => unknown) | undefined;
        source?: (() => AsyncIterable<SourceRecord>) | undefined;
      }
    | undefined;
}
