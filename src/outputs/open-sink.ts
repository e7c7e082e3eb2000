import { FilesSink } from './files-sink.js';
import { JsonlSink } from './jsonl-sink.js';
import type { OutputIndex, OutputSink, OutputSinkKind } from './sink.js';

export interface OutputSinkOptions {
  kind: OutputSinkKind;
  root: string;
  /** JSONL only: a shard is closed once it holds this many bytes. */
  shardBytes?: number;
  /** JSONL only: told once when the manifest cannot be written, and the run goes on (JsonlSink.checkpoint). */
  warn?: (message: string) => void;
}

/** The configured sink over the store's output index. */
export function openOutputSink(options: OutputSinkOptions, index: OutputIndex): OutputSink {
  switch (options.kind) {
    case 'files':
      return new FilesSink(options.root, index);
    case 'jsonl':
      return new JsonlSink({
        root: options.root,
        index,
        ...(options.shardBytes !== undefined ? { shardBytes: options.shardBytes } : {}),
        ...(options.warn ? { warn: options.warn } : {}),
      });
    default:
      return options.kind satisfies never;
  }
}
