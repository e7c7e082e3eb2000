import type { ShardCommit } from './sink.js';

/** The manifest beside the shards: which shards exist and how many of their bytes are committed. */
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'wavebatch-jsonl-outputs';

/** `manifest.json`: readers take each listed shard's first `bytes` bytes; anything after is not committed. */
export interface ShardManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  shards: Array<{ file: string; bytes: number }>;
}

const SHARD_FILE = /^part-(\d{6,})\.jsonl$/;

/** `part-000001.jsonl`: six digits at least, so names sort in shard order. */
export function shardFileName(shard: number): string {
  return `part-${String(shard).padStart(6, '0')}.jsonl`;
}

/** The shard number a file name holds, or null when it is not a shard. */
export function shardNumber(fileName: string): number | null {
  const digits = SHARD_FILE.exec(fileName)?.[1];
  return digits === undefined ? null : Number(digits);
}

/** The manifest of these committed shards, in shard order, as the text written to disk. */
export function manifestText(shards: readonly ShardCommit[]): string {
  const manifest: ShardManifest = {
    format: MANIFEST_FORMAT,
    version: 1,
    shards: [...shards]
      .sort((a, b) => a.shard - b.shard)
      .map((commit) => ({ file: shardFileName(commit.shard), bytes: commit.bytes })),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
