import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import {
  injectFaults,
  jsonBody,
  pageSizeOf,
  requestTooLarge,
  withoutMethod,
  API_VERSION,
  type EmulatorContext,
  type EmulatorState,
  type Env,
} from './http-context.js';
import { fileTooLarge, invalidArgument, MAX_FILE_BYTES } from './google-error.js';
import { fileStorageQuotaError } from './quotas.js';
import { pageJson } from './paging.js';
import { isJsonObject } from './json-object.js';
import { fieldOf } from './model/wire-request.js';

/** The Files API: resumable upload, get, list, download, delete. */
export function fileRoutes(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();
  const { files } = state;

  // Start (`x-goog-upload-command: start`) and chunks (same path plus `upload_id`), as Google does.
  app.post(`/upload/${API_VERSION}/files`, injectFaults(state, 'upload'), async (c) => {
    const origin = new URL(c.req.url).origin;
    const uploadId = c.req.query('upload_id');
    const command = (c.req.header('x-goog-upload-command') ?? '').toLowerCase();
    if (uploadId === undefined) {
      if (!command.includes('start'))
        throw invalidArgument('Missing X-Goog-Upload-Command: start for a resumable upload.');
      const body = await jsonBody(c);
      const meta = isJsonObject(body) && isJsonObject(body.file) ? body.file : {};
      // Proto JSON: camelCase or snake_case, as the REST docs' curl sends `{"file": {"display_name": …}}`.
      const text = (field: string) => {
        const value = fieldOf(meta, field);
        return typeof value === 'string' ? value : undefined;
      };
      const mimeType = text('mimeType') ?? c.req.header('x-goog-upload-header-content-type');
      if (mimeType !== undefined && state.faults.refusesMimeType(mimeType))
        throw invalidArgument(`Unsupported MIME type: ${mimeType}`);
      // The SDK declares the size up front; an upload that cannot fit is refused before any byte moves.
      const declared = Number(c.req.header('x-goog-upload-header-content-length'));
      if (state.maxRequestBytes !== null && declared > state.maxRequestBytes) return requestTooLarge(c);
      if (declared > MAX_FILE_BYTES) throw fileTooLarge(declared);
      if (Number.isFinite(declared) && files.usedBytes() + declared > state.fileStorageBytes)
        throw fileStorageQuotaError(state.fileStorageBytes);
      const id = files.startUpload({
        // Honoured as Google does: the file gets the name the caller asked for.
        name: text('name') || undefined,
        displayName: text('displayName'),
        mimeType,
      });
      c.header(
        'x-goog-upload-url',
        `${origin}/upload/${c.req.param('version')}/files?upload_id=${id}&upload_protocol=resumable`,
      );
      c.header('x-goog-upload-status', 'active');
      c.header('x-goog-upload-chunk-granularity', '262144');
      return c.body(null, 200);
    }
    const isUpload = command.includes('upload');
    const finalize = command.includes('finalize');
    if (!isUpload && !finalize)
      throw invalidArgument(`Unsupported X-Goog-Upload-Command: ${command || '(none)'}.`);
    const offsetHeader = c.req.header('x-goog-upload-offset');
    const offset = offsetHeader === undefined ? undefined : Number(offsetHeader);
    // Straight from the socket to disk: web-stream adapters would buffer a chunk (8 MB) or more in memory.
    const result = await files.receiveChunk(uploadId, offset, isUpload ? c.env.incoming : null, finalize);
    if ('file' in result) {
      // Counted with the new file: an upload that did not declare its size is refused at the end.
      if (files.usedBytes() > state.fileStorageBytes) {
        files.delete(result.file.name);
        throw fileStorageQuotaError(state.fileStorageBytes);
      }
      if (state.faults.uploadStuck()) files.holdProcessing(result.file);
      c.header('x-goog-upload-status', 'final');
      return c.json({ file: files.toJson(result.file, origin) });
    }
    c.header('x-goog-upload-status', 'active');
    return c.body(null, 200);
  });

  app.get(`/${API_VERSION}/files`, injectFaults(state, 'list'), (c) => {
    const page = files.list(pageSizeOf(c, 10, 100), c.req.query('pageToken'));
    const origin = new URL(c.req.url).origin;
    return c.json(pageJson(page, 'files', (file) => files.toJson(file, origin)));
  });

  // `files.download` calls /{v}/files/{id}:download; the REST docs use /download/{v}/files/{id}:download.
  const download = (c: EmulatorContext) => {
    const file = files.require(`files/${withoutMethod(c.req.param('file') ?? '')}`);
    if (file.source !== 'GENERATED') {
      // Google: "Files created by `upload` can't be downloaded" (python-genai files.download); the
      // exact wording of its refusal is not documented, the status follows its other argument errors.
      throw invalidArgument(
        `Only generated files (batch results) can be downloaded; ${file.name} was uploaded and cannot be downloaded.`,
      );
    }
    const { outgoing } = c.env;
    outgoing.writeHead(200, { 'content-type': file.mimeType, 'content-length': String(file.sizeBytes) });
    // Piped with backpressure straight to the socket; a client that goes away just ends the pipe.
    pipeline(files.open(file), outgoing).catch(() => outgoing.destroy());
    return RESPONSE_ALREADY_SENT;
  };
  app.get(`/${API_VERSION}/files/:file{[^/:]+:download}`, injectFaults(state, 'download'), download);
  app.get(`/download/${API_VERSION}/files/:file{[^/:]+:download}`, injectFaults(state, 'download'), download);

  app.get(`/${API_VERSION}/files/:file{[^/:]+}`, injectFaults(state, 'get'), (c) => {
    const file = files.require(`files/${c.req.param('file')}`);
    return c.json(files.toJson(file, new URL(c.req.url).origin));
  });

  app.delete(`/${API_VERSION}/files/:file{[^/:]+}`, injectFaults(state, 'delete'), (c) => {
    files.delete(`files/${c.req.param('file')}`);
    return c.json({});
  });

  return app;
}
