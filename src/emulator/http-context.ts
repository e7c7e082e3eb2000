import type { Context, MiddlewareHandler } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { systemClock } from '../clock.js';
import type { Responder } from './model/index.js';
import type { BatchJobs } from './batch-jobs.js';
import type { EmulatedClock } from './clock.js';
import type { CallKind } from './fault-plan.js';
import type { FaultInjector } from './fault-injector.js';
import type { FileStore } from './file-store.js';
import { GoogleError, INTERNAL_ERROR_MESSAGE, invalidArgument, payloadTooLarge } from './google-error.js';
import type { MemoryLedger } from './ledger.js';
import type { RetryDelayPrecision } from './quotas.js';
import type { ServiceTiers } from './service-tiers.js';

/** Everything the HTTP routes work on. */
export interface EmulatorState {
  clock: EmulatedClock;
  /** Emulated ms per real ms; converts emulated waits (RetryInfo) to real ones. */
  timeScale: number;
  /** How a 429's RetryInfo states its delay. */
  retryDelayPrecision: RetryDelayPrecision;
  seed: number;
  files: FileStore;
  batches: BatchJobs;
  ledger: MemoryLedger;
  faults: FaultInjector;
  /** The project's Files API storage limit in bytes (uploads and batch results together). */
  fileStorageBytes: number;
  /** generateContent's service tiers: quota pools, latency, shedding. */
  tiers: ServiceTiers;
  /** Aborted when the emulator closes: requests still waiting out their latency give up. */
  closing: AbortSignal;
  /** Model names served beyond the catalog's (the `models` option). */
  models: readonly string[];
  /** The keys accepted (the `apiKeys` option); null: any non-empty key. */
  apiKeys: ReadonlySet<string> | null;
  /** The front end's body limit (the `maxRequestBytes` option); null: none. */
  maxRequestBytes: number | null;
  responder(): Responder | undefined;
}

/**
 * The front end's answer to a body over its limit: 413 with its HTML page, no Google error in it, as
 * Google's front end answers before the API sees the call.
 */
export function requestTooLarge(c: EmulatorContext): Response {
  return c.html(
    '<html><title>Error 413 (Request Entity Too Large)!!1</title><p><b>413.</b> That’s an error.' +
      '<p>Your client issued a request that was too large. That’s all we know.</html>',
    413,
  );
}

/**
 * The API versions Google serves, as a Hono route pattern: SDK 3.x calls `v1` by default, the docs and
 * SDK 2.x `v1beta`, and preview features live under `v1alpha`.
 */
export const API_VERSION = ':version{v1alpha|v1beta|v1}';

/** The Hono environment: node's request and response are reachable, for streaming. */
export type Env = { Bindings: HttpBindings };
/** A route handler's context. */
export type EmulatorContext = Context<Env>;

/**
 * Applies the fault plan's delay and HTTP faults to one kind of call before its handler runs:
 * 400/500/503 with Google's body, or a dropped connection (the socket is destroyed, no answer).
 */
export function injectFaults(state: EmulatorState, kind: CallKind): MiddlewareHandler<Env> {
  return async (c, next) => {
    const delay = state.faults.delayMs(kind);
    // The clock's sleep, not a bare timer: a fault plan's delay above 2^31 - 1 ms must not overflow to 1 ms.
    if (delay > 0) await systemClock.sleep(delay);
    const fault = state.faults.httpFault(kind);
    if (fault === 'drop') {
      c.env.incoming.socket.destroy();
      return RESPONSE_ALREADY_SENT;
    }
    if (fault === 'status_400')
      throw invalidArgument('Request contains an invalid argument (emulated fault status_400).');
    // The front end's page when a request's bytes were too slow to arrive: no Google error in it.
    if (fault === 'status_408')
      return c.html('<html><title>Error 408 (Request Timeout)!!1</title><p>Request Timeout</p></html>', 408);
    if (fault === 'status_413') return requestTooLarge(c);
    // The bare 429 users meet while under every documented limit: no QuotaFailure, no RetryInfo.
    if (fault === 'status_429')
      throw new GoogleError('RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');
    // Google's 499 when it cancelled the call itself (the client did not: it would not read the answer).
    if (fault === 'status_499') throw new GoogleError('CANCELLED', 'The operation was cancelled.');
    if (fault === 'status_500') throw new GoogleError('INTERNAL', INTERNAL_ERROR_MESSAGE);
    if (fault === 'status_503')
      throw new GoogleError('UNAVAILABLE', 'The model is overloaded. Please try again later.');
    if (fault === 'status_504')
      throw new GoogleError('DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.');
    if (fault === 'reset_mid_body') resetMidBody(c.env.outgoing);
    await next();
  };
}

/**
 * Lets the answer's status, headers and the first half of its body out (by its content-length, else
 * of its first chunk), then resets the connection: whether a route answers with a Response or
 * streams to the socket itself (downloads), the client reads part of the body and loses the rest.
 */
function resetMidBody(outgoing: HttpBindings['outgoing']): void {
  let left: number | undefined;
  const write = outgoing.write.bind(outgoing) as (...args: unknown[]) => boolean;
  const end = outgoing.end.bind(outgoing) as (...args: unknown[]) => typeof outgoing;
  const cut = (chunk: unknown): boolean => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return false;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    left ??= Math.floor((Number(outgoing.getHeader('content-length')) || bytes.length) / 2);
    const sent = bytes.subarray(0, left);
    left -= sent.length;
    if (left > 0) return false;
    // Flushed before the reset, so the client has read part of the body when the connection goes.
    write(sent, () => outgoing.socket?.resetAndDestroy());
    return true;
  };
  outgoing.write = ((chunk: unknown, ...rest: unknown[]) =>
    cut(chunk) ? false : write(chunk, ...rest)) as typeof outgoing.write;
  outgoing.end = ((chunk?: unknown, ...rest: unknown[]) =>
    cut(chunk) ? outgoing : end(chunk, ...rest)) as typeof outgoing.end;
}

/** The request body as JSON; a malformed body, or one over `maxBytes`, is Google's 400. */
export async function jsonBody(c: EmulatorContext, maxBytes?: number): Promise<unknown> {
  const text = await c.req.text();
  if (maxBytes !== undefined && Buffer.byteLength(text, 'utf8') > maxBytes) throw payloadTooLarge();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidArgument('Invalid JSON payload received. Unexpected token.');
  }
}

/** `pageSize` from the query, clamped like Google's list methods. */
export function pageSizeOf(c: EmulatorContext, fallback: number, max: number): number {
  const raw = c.req.query('pageSize');
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw invalidArgument(`Invalid value for pageSize: ${raw}.`);
  return value === 0 ? fallback : Math.min(value, max);
}

/** `abc` from a `abc:method` path segment. */
export function withoutMethod(segment: string): string {
  const colon = segment.lastIndexOf(':');
  return colon < 0 ? segment : segment.slice(0, colon);
}
