import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A recording stand-in for Google's endpoint, for the few tests that must see the exact HTTP
 * requests the SDK sends (headers, paths, bodies) or need a server that misbehaves in ways the
 * emulator never does (echoing the API key). Behaviour is tested against src/emulator instead.
 * It answers `batchGenerateContent` with a PENDING operation, an injected failure when one is
 * queued, and 404 otherwise.
 */
export interface FakeGoogle {
  url: string;
  requests: Array<{
    method: string;
    path: string;
    query: URLSearchParams;
    headers: IncomingMessage['headers'];
    body: string;
  }>;
  /** Answers the next request whose path contains `path` with this status and JSON body. */
  failNext(path: string, status: number, body: unknown): void;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeGoogle(): Promise<FakeGoogle> {
  const requests: FakeGoogle['requests'] = [];
  const faults: Array<{ path: string; status: number; body: unknown }> = [];
  let counter = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const fault = faults.findIndex((f) => url.pathname.includes(f.path));
      if (fault >= 0) {
        const [{ status, body: errorBody }] = faults.splice(fault, 1) as [(typeof faults)[number]];
        return answer(status, errorBody);
      }
      const create =
        req.method === 'POST'
          ? url.pathname.match(/^\/v1beta\/(models\/[\w.-]+):batchGenerateContent$/)
          : null;
      if (create) {
        const batch = (JSON.parse(body) as { batch: { displayName?: string } }).batch;
        return answer(200, {
          name: `batches/b${++counter}`,
          metadata: {
            displayName: batch.displayName,
            model: create[1],
            state: 'BATCH_STATE_PENDING',
            createTime: new Date(0).toISOString(),
          },
        });
      }
      answer(404, {
        error: { code: 404, status: 'NOT_FOUND', message: `No route ${req.method ?? ''} ${url.pathname}` },
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (path, status, body) => void faults.push({ path, status, body }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
