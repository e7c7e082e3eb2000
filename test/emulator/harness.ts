import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterEach } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';

/** The unmodified SDK, pointed at the emulator exactly as production code does. */
export function sdkFor(emulator: RunningEmulator): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: 'test-key',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: emulator.url },
  });
}

/** A fresh temp directory and its removal. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `wavebatch-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** What a suite's tests start and create; see `emulatorSandbox`. */
export interface EmulatorSandbox {
  /** Starts an emulator that is closed after the current test. */
  startEmulator(options?: EmulatorOptions): Promise<RunningEmulator>;
  /** Creates a temp directory that is removed after the current test, and returns its path. */
  tempDir(prefix: string): string;
  /** Removes `path`, a folder a fixture made (a catalog workload's root), after the current test. */
  removeAfterTest(path: string): void;
}

/**
 * Tier options that answer generateContent at once, for tests about what is answered rather than
 * when; a test's own `tiers` are merged over them, tier by tier (so `{flex: {latencyMs: ...}}`
 * brings back Flex latency alone).
 */
export function instantTiers(tiers: EmulatorOptions['tiers'] = {}): NonNullable<EmulatorOptions['tiers']> {
  return {
    flex: { latencyMs: 0, ...tiers.flex },
    standard: { latencyMs: 0, ...tiers.standard },
    priority: { latencyMs: 0, ...tiers.priority },
  };
}

/**
 * Call once in a `describe`: every emulator and temp directory a test of the suite makes through the
 * returned sandbox (or hands it) is closed or removed after that test, even when it fails. Its emulators answer
 * generateContent at once unless a test gives tier latencies (`instantTiers`).
 */
export function emulatorSandbox(): EmulatorSandbox {
  const emulators: RunningEmulator[] = [];
  const dirs: Array<{ remove(): void }> = [];
  afterEach(async () => {
    // close() is idempotent, so a test may close its emulator itself.
    for (const emulator of emulators.splice(0)) await emulator.close();
    for (const dir of dirs.splice(0)) dir.remove();
  });
  return {
    async startEmulator(options) {
      const emulator = await startEmulator({ ...options, tiers: instantTiers(options?.tiers) });
      emulators.push(emulator);
      return emulator;
    },
    tempDir(prefix) {
      const dir = tempDir(prefix);
      dirs.push(dir);
      return dir.path;
    },
    removeAfterTest(path) {
      dirs.push({ remove: () => rmSync(path, { recursive: true, force: true }) });
    },
  };
}

/** Raw JSON of `GET /v1beta/{name}` (what wavebatch reads with operations.get). */
export async function rawGet(
  emulator: RunningEmulator,
  name: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}/v1beta/${name}`, {
    headers: { 'x-goog-api-key': 'test-key' },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls a batch until it is done (high timeScale keeps this to a few real ms). */
export async function pollUntilDone(
  emulator: RunningEmulator,
  name: string,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await rawGet(emulator, name);
    if (body.done === true) return body;
    if (Date.now() > deadline)
      throw new Error(`${name} not done after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A JSONL batch input line. */
export function inputLine(key: string, text: string): string {
  return JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text }] }] } });
}

/** The status and JSON body of an SDK call the emulator refused; throws if it was answered (or failed otherwise). */
export async function refusalOf(
  call: Promise<unknown>,
): Promise<{ status: number; body: { error: Record<string, unknown> } }> {
  const error = await call.then(
    () => new Error('expected the call to be refused'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw error;
  return { status: error.status, body: JSON.parse(error.message) as { error: Record<string, unknown> } };
}
