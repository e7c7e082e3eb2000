import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rm, stat } from 'node:fs/promises';
import type { GeminiClient, RemoteFile } from '../../gemini/index.js';

/** An uploaded batch input file, and the bytes it took. */
export interface UploadedJobInput {
  file: RemoteFile;
  bytes: number;
}

/**
 * Writes a batch job's JSONL input (one `{key, request}` line each) to `path` and uploads it as the
 * job's input file: the one way a job's requests go up as a file, for a workload's batch lane and a
 * one-off `submit` alike. Lines are streamed, so a job of many requests is never one string in
 * memory. `onWritten` learns the bytes before the upload (a refusal of a too-large upload names
 * them). The local file is removed, uploaded or not: an upload that failed writes it again.
 */
export async function uploadJobInput(
  api: Pick<GeminiClient, 'uploadJsonl'>,
  path: string,
  lines: AsyncIterable<string> | Iterable<string>,
  displayName: string,
  onWritten?: (bytes: number) => void,
  /** The file's name to ask for (`files/…`); the API draws one when absent. */
  name?: string,
): Promise<UploadedJobInput> {
  try {
    await writeLines(path, lines);
    const bytes = (await stat(path)).size;
    onWritten?.(bytes);
    return { file: await api.uploadJsonl(path, displayName, name), bytes };
  } finally {
    await rm(path, { force: true });
  }
}

async function writeLines(path: string, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  try {
    for await (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
  } finally {
    out.end();
    await once(out, 'finish');
  }
}
