import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Responder } from './model/index.js';
import { BatchJobs } from './batch-jobs.js';
import { emulatedClock } from './clock.js';
import type { FaultPlan } from './fault-plan.js';
import { FaultInjector } from './fault-injector.js';
import { FileStore } from './file-store.js';
import { emulatorApp } from './http-app.js';
import type { EmulatorState } from './http-context.js';
import { MemoryLedger, type Ledger } from './ledger.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import { seededRandom } from './seeded-random.js';
import { modelQuotas } from './model-quotas.js';
import { ServiceTiers } from './service-tiers.js';
import { WavebatchError } from '../errors.js';
import { makeFolder } from '../make-folder.js';

/** A started emulator. */
export interface RunningEmulator {
  /** 'http://127.0.0.1:PORT': give it to the SDK as httpOptions.baseUrl. */
  url: string;
  /** Every billed model call. */
  ledger: Ledger;
  /** Replaces the fault plan (byKey counters restart). */
  setFaults(faults: FaultPlan): void;
  /**
   * How often each entry of the current plan's `http` list has fired, in its order: for tests that
   * must know the fault they injected was really met, not matched by no call.
   */
  httpFaultsFired(): number[];
  /** Replaces the test's model (undefined: the synthetic model only). */
  setResponder(responder: Responder | undefined): void;
  /** Emulated epoch ms. */
  now(): number;
  /**
   * The bytes of a stored file (uploads too, which the API will not hand out), or undefined when it
   * does not exist: for tests that check what was uploaded.
   */
  storedFile(name: string): Promise<Buffer | undefined>;
  /**
   * The files the project holds now (uploads and generated results, deleted and expired ones left
   * out), oldest first: for tests that check what a run leaves in the user's Files storage.
   */
  heldFiles(): HeldFile[];
  /** Stops listening once processing under way has finished; removes the storage it created. Idempotent. */
  close(): Promise<void>;
}

/** A file the emulator holds, as `heldFiles` lists it. */
export interface HeldFile {
  name: string;
  displayName: string | undefined;
  source: 'UPLOADED' | 'GENERATED';
  sizeBytes: number;
}

/** The emulator could not listen (port in use, host not local...). */
export class EmulatorListenError extends WavebatchError {
  readonly code = 'EMULATOR_LISTEN';
  constructor(host: string, port: number, cause: unknown) {
    const reason =
      (cause as { code?: unknown }).code === 'EADDRINUSE'
        ? 'the port is already in use'
        : String((cause as Error).message ?? cause);
    super(
      `The emulator cannot listen on ${host}:${port}: ${reason}. Pick another --port (0 = any free port) or --host.`,
    );
  }
}

/** How often (real ms) the background timer advances job states. */
const TICK_MS = 25;

/** Starts a local Gemini API (v1beta, as the @google/genai SDK speaks it) on 127.0.0.1 and a free port by default. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const settings = resolveOptions(options);
  const ownsStorage = settings.storageDir === undefined;
  const storageDir = settings.storageDir ?? (await mkdtemp(join(tmpdir(), 'wavebatch-emulator-')));
  const clock = emulatedClock(settings.timeScale, settings.realNow);
  const ledger = new MemoryLedger();
  const faults = new FaultInjector(settings.seed, settings.faults);
  // Ids are the one thing a seed does not replay: a restarted emulator (same seed) must not hand out
  // the names of the jobs and files of its previous life, or a stored job name would point at
  // another job, which Google never does.
  const instance = randomUUID();
  const files = new FileStore(
    join(storageDir, 'store'),
    clock,
    settings.fileTtlMs,
    seededRandom(settings.seed, `file-ids:${instance}`),
    settings.fileProcessing,
  );
  await files.init();
  const workDir = join(storageDir, 'jobs');
  await makeFolder(workDir);
  let responder = settings.responder;
  const closing = new AbortController();
  const batches = new BatchJobs({
    clock,
    timeScale: settings.timeScale,
    seed: settings.seed,
    idRandom: seededRandom(settings.seed, `batch-ids:${instance}`),
    turnaround: settings.turnaround,
    jobExpiryMs: settings.jobExpiryMs,
    quotas: () => settings.quotas,
    retryDelayPrecision: settings.retryDelayPrecision,
    processing: { files, faults, ledger, responder: () => responder, seed: settings.seed, workDir },
  });
  const state: EmulatorState = {
    clock,
    timeScale: settings.timeScale,
    retryDelayPrecision: settings.retryDelayPrecision,
    seed: settings.seed,
    files,
    batches,
    ledger,
    faults,
    fileStorageBytes: settings.quotas.fileStorageBytes,
    tiers: new ServiceTiers(
      settings.tiers,
      (model) => modelQuotas(settings.quotas, model),
      settings.tierQuotas,
      settings.seed,
      clock.now,
    ),
    closing: closing.signal,
    models: settings.models,
    apiKeys: settings.apiKeys,
    maxRequestBytes: settings.maxRequestBytes,
    responder: () => responder,
  };

  const app = emulatorApp(state);
  const server = createAdaptorServer({ fetch: app.fetch, hostname: settings.host }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if (ownsStorage) await rm(storageDir, { recursive: true, force: true });
    throw new EmulatorListenError(settings.host, settings.port, error);
  }
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;

  const timer = setInterval(() => {
    batches.advanceAll();
    files.sweep();
  }, TICK_MS);
  timer.unref();

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    ledger,
    setFaults: (plan) => faults.replace(plan),
    httpFaultsFired: () => faults.httpFaultsFired(),
    setResponder: (next) => {
      responder = next;
    },
    now: () => clock.now(),
    storedFile: async (name) => {
      const file = files.get(name.startsWith('files/') ? name : `files/${name}`);
      return file ? readFile(file.path) : undefined;
    },
    heldFiles: () =>
      files
        .held()
        .map(({ name, displayName, source, sizeBytes }) => ({ name, displayName, source, sizeBytes })),
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        closing.abort();
        await batches.idle();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownsStorage) await rm(storageDir, { recursive: true, force: true });
      })()),
  };
}
