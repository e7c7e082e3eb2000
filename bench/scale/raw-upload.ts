// The upload stage's bare loop: the same bytes to the same emulator over the same resumable protocol
// (a start request, then one request carrying the whole file and finalizing it), through node:http
// with no SDK and no wavebatch code in between.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** Uploads the file at `path` to the Files API at `baseUrl`; rejects unless the upload is final. */
export async function rawResumableUpload(baseUrl: string, path: string, mimeType: string): Promise<void> {
  const size = (await stat(path)).size;
  const started = await post(
    `${baseUrl}/upload/v1beta/files`,
    {
      'content-type': 'application/json',
      'x-goog-api-key': 'bench-key',
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(size),
      'x-goog-upload-header-content-type': mimeType,
    },
    JSON.stringify({ file: { mimeType } }),
  );
  const uploadUrl = started.headers['x-goog-upload-url'];
  if (typeof uploadUrl !== 'string') throw new Error(`no upload URL in the answer: ${started.body}`);
  const finished = await post(
    uploadUrl,
    {
      'content-length': String(size),
      'x-goog-api-key': 'bench-key',
      'x-goog-upload-command': 'upload, finalize',
      'x-goog-upload-offset': '0',
    },
    createReadStream(path),
  );
  if (finished.headers['x-goog-upload-status'] !== 'final') {
    throw new Error(`the upload did not finish: ${finished.body}`);
  }
}

function post(
  url: string,
  headers: Record<string, string>,
  body: string | Readable,
): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ headers: response.headers, body: text }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    if (typeof body === 'string') sent.end(body);
    else body.on('error', reject).pipe(sent);
  });
}
