import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal stand-in for Google's Gemini REST endpoints, used until src/emulator lands: it
 * speaks the wire protocol the SDK uses (resumable upload, batches as operations, paging) and
 * records every request so tests can check what was sent.
 */
export interface FakeGoogle {
  url: string;
  requests: Array<{ method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: string }>;
  batches: Map<string, Record<string, unknown>>;
  files: Map<string, { meta: Record<string, unknown>; content: string }>;
  /** Answers the next request matching `path` (a substring) with this status and JSON error body. */
  failNext(path: string, status: number, body: unknown): void;
  /** Finishes a batch: file input -> a results file, inline input -> inline responses in reverse order. */
  succeed(name: string): void;
  close(): Promise<void>;
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const requests: FakeGoogle['requests'] = [];
  const batches = new Map<string, Record<string, unknown>>();
  const inputs = new Map<string, unknown>();
  const files = new Map<string, { meta: Record<string, unknown>; content: string }>();
  const sessions = new Map<string, { meta: Record<string, unknown>; content: string }>();
  const faults: Array<{ path: string; status: number; body: unknown }> = [];
  let counter = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
      const fault = faults.findIndex((f) => url.pathname.includes(f.path));
      if (fault >= 0) {
        const [{ status, body: errorBody }] = faults.splice(fault, 1) as [(typeof faults)[number]];
        return json(res, status, errorBody);
      }
      route(req.method ?? '', url, body, req, res);
    });
  });

  function route(method: string, url: URL, body: string, req: IncomingMessage, res: ServerResponse): void {
    const path = url.pathname;
    let match: RegExpMatchArray | null;
    if (method === 'POST' && path === '/upload/v1beta/files') {
      const id = `up${++counter}`;
      const parsed = JSON.parse(body || '{}') as { file?: Record<string, unknown> };
      sessions.set(id, { meta: parsed.file ?? {}, content: '' });
      res.setHeader('x-goog-upload-url', `http://127.0.0.1:1/upload-session/${id}`);
      return json(res, 200, {});
    }
    if (method === 'POST' && (match = path.match(/^\/upload-session\/(\w+)$/))) {
      const session = sessions.get(match[1] ?? '');
      if (!session) return json(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: 'no session' } });
      session.content += body;
      if (!String(req.headers['x-goog-upload-command']).includes('finalize')) {
        res.setHeader('x-goog-upload-status', 'active');
        return json(res, 200, {});
      }
      const name = `files/f${++counter}`;
      const meta = { ...session.meta, name, sizeBytes: String(Buffer.byteLength(session.content)), state: 'ACTIVE', expirationTime: '2030-01-01T00:00:00Z' };
      files.set(name, { meta, content: session.content });
      res.setHeader('x-goog-upload-status', 'final');
      return json(res, 200, { file: meta });
    }
    if ((match = path.match(/^\/v1beta\/(files\/\w+)(:download)?$/))) {
      const file = files.get(match[1] ?? '');
      if (!file) return json(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: `File ${match[1]} not found.` } });
      if (match[2]) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(file.content);
      }
      if (method === 'DELETE') {
        files.delete(match[1] ?? '');
        return json(res, 200, {});
      }
      return json(res, 200, file.meta);
    }
    if (method === 'POST' && (match = path.match(/^\/v1beta\/(models\/[\w.-]+):batchGenerateContent$/))) {
      const batch = (JSON.parse(body) as { batch: { displayName?: string; inputConfig: unknown } }).batch;
      const name = `batches/b${++counter}`;
      inputs.set(name, batch.inputConfig);
      const operation = {
        name,
        metadata: { displayName: batch.displayName, model: match[1], state: 'BATCH_STATE_PENDING', createTime: new Date(0).toISOString() },
      };
      batches.set(name, operation);
      return json(res, 200, operation);
    }
    if (method === 'POST' && path.match(/^\/v1beta\/models\/[\w.-]+:countTokens$/)) {
      const text = JSON.stringify(JSON.parse(body));
      return json(res, 200, { totalTokens: Math.ceil(text.length / 10) });
    }
    if (method === 'GET' && path === '/v1beta/batches') {
      const all = [...batches.values()];
      const size = Number(url.searchParams.get('pageSize') ?? 50);
      const start = Number(url.searchParams.get('pageToken') ?? 0);
      const next = start + size < all.length ? String(start + size) : undefined;
      return json(res, 200, { operations: all.slice(start, start + size), ...(next ? { nextPageToken: next } : {}) });
    }
    if ((match = path.match(/^\/v1beta\/(batches\/\w+)(:cancel)?$/))) {
      const operation = batches.get(match[1] ?? '');
      if (!operation) return json(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: `Batch ${match[1]} not found.` } });
      if (match[2]) {
        (operation.metadata as Record<string, unknown>).state = 'BATCH_STATE_CANCELLED';
        return json(res, 200, {});
      }
      if (method === 'DELETE') {
        batches.delete(match[1] ?? '');
        return json(res, 200, {});
      }
      return json(res, 200, operation);
    }
    json(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: `No route ${method} ${path}` } });
  }

  function succeed(name: string): void {
    const operation = batches.get(name);
    const input = inputs.get(name) as { fileName?: string; requests?: { requests: Array<{ metadata?: { key?: string } }> } };
    if (!operation) throw new Error(`no batch ${name}`);
    const metadata = operation.metadata as Record<string, unknown>;
    const response = (key: string | undefined) => ({ candidates: [{ content: { role: 'model', parts: [{ text: `answer ${key}` }] } }] });
    if (input.fileName) {
      const lines = (files.get(input.fileName)?.content ?? '').split('\n').filter((l) => l.trim() !== '');
      const keys = lines.map((l) => (JSON.parse(l) as { key?: string }).key);
      const out = `files/r${++counter}`;
      const content = keys.reverse().map((key) => JSON.stringify({ key, response: response(key) })).join('\n') + '\n';
      files.set(out, { meta: { name: out, sizeBytes: String(content.length), state: 'ACTIVE' }, content });
      metadata.output = { responsesFile: out };
    } else {
      const items = [...(input.requests?.requests ?? [])].reverse();
      metadata.output = { inlinedResponses: { inlinedResponses: items.map((r) => ({ metadata: r.metadata, response: response(r.metadata?.key) })) } };
    }
    const count = String(input.requests?.requests.length ?? 0);
    metadata.state = 'BATCH_STATE_SUCCEEDED';
    metadata.batchStats = { requestCount: count, successfulRequestCount: count };
    operation.done = true;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    batches,
    files,
    failNext: (path, status, body) => void faults.push({ path, status, body }),
    succeed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
