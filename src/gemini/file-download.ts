import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { GoogleGenAI } from '@google/genai';

/** The part of the SDK's ApiClient a download uses: its authenticated, base-URL-aware request. */
interface SdkRequester {
  request(request: {
    path: string;
    httpMethod: 'GET';
    queryParams: Record<string, string>;
    httpOptions: { timeout: number };
    abortSignal: AbortSignal;
  }): Promise<{ responseInternal: Response }>;
}

/**
 * Streams a generated file (a batch job's results) to `path`, failing if the answer fails part-way.
 *
 * It makes the request `files.download` makes (GET files/{id}:download?alt=media, through the SDK's
 * own ApiClient: its key header, base URL and API version), but pipes the answer itself. The SDK
 * pipes it into the file with `pipe`, which does not pass on an error of the answer: a connection
 * reset part-way left the file open and the download waiting for it for ever (the answer's error
 * uncaught), so the run hung. `pipeline` fails on an error of either side.
 *
 * `idleTimeoutMs` bounds the wait for the answer and then for each piece of it, not the whole: the
 * SDK's per-call timeout stays armed while the body is read, so a results file taking longer than
 * it to arrive (120 s by default: a few GB on a slow link) was cut off at every try, for ever. (A
 * network timeout, so on the real clock, as the SDK's own.)
 */
export async function downloadGeneratedFile(
  ai: GoogleGenAI,
  fileName: string,
  path: string,
  idleTimeoutMs: number,
): Promise<void> {
  // GoogleGenAI keeps its ApiClient protected; it is the one every other call goes through.
  const requester = (ai as unknown as { apiClient: SdkRequester }).apiClient;
  const id = fileName.startsWith('files/') ? fileName.slice('files/'.length) : fileName;
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), idleTimeoutMs);
  const progressed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleTimeoutMs);
  };
  try {
    const response = await requester.request({
      path: `files/${id}:download`,
      httpMethod: 'GET',
      queryParams: { alt: 'media' },
      // No timer of the SDK's: the idle one above is the one.
      httpOptions: { timeout: 0 },
      abortSignal: idle.signal,
    });
    const body = response.responseInternal.body;
    if (!body) throw new Error(`The download of ${fileName} came with no body.`);
    await pipeline(
      Readable.fromWeb(body as WebReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          progressed();
          done(null, chunk);
        },
      }),
      createWriteStream(path),
    );
  } finally {
    clearTimeout(timer);
  }
}
