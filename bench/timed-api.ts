// Instruments the real Gemini client: time and bytes per kind of API call, to split a run's wall time.
import { stat } from 'node:fs/promises';
import type { GeminiClient } from '../src/gemini/index.js';

/** What a run spent on one kind of call. */
export interface CallTotals {
  calls: number;
  ms: number;
  bytes: number;
}

/** Call kinds, by the runner phase they belong to. */
export type CallKind = 'upload' | 'create' | 'poll' | 'download' | 'countTokens' | 'other';

/** The client with the same behaviour, and the totals it collects. */
export interface TimedApi {
  client: GeminiClient;
  totals: Record<CallKind, CallTotals>;
}

/** Wraps `client` so every call the runner makes is timed (and uploads/downloads measured in bytes). */
export function timedApi(client: GeminiClient): TimedApi {
  const totals = Object.fromEntries(
    (['upload', 'create', 'poll', 'download', 'countTokens', 'other'] as const).map((kind) => [
      kind,
      { calls: 0, ms: 0, bytes: 0 },
    ]),
  ) as Record<CallKind, CallTotals>;
  const timed = async <T>(
    kind: CallKind,
    work: () => Promise<T>,
    bytes?: () => Promise<number>,
  ): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const entry = totals[kind];
      entry.calls++;
      entry.ms += performance.now() - started;
      if (bytes) entry.bytes += await bytes().catch(() => 0);
    }
  };
  const size = (path: string) => async () => (await stat(path)).size;
  return {
    totals,
    client: {
      ...client,
      uploadJsonl: (path, displayName) =>
        timed('upload', () => client.uploadJsonl(path, displayName), size(path)),
      getFile: (name) => timed('other', () => client.getFile(name)),
      createBatch: (input) => timed('create', () => client.createBatch(input)),
      getBatch: (name) => timed('poll', () => client.getBatch(name)),
      downloadFile: (name, destPath) =>
        timed('download', () => client.downloadFile(name, destPath), size(destPath)),
      countTokens: (model, request) => timed('countTokens', () => client.countTokens(model, request)),
    },
  };
}
