import {
  BatchJobService,
  createGeminiClient,
  startEmulator,
  type BatchJobInfo,
  type GeminiClient,
  type RunningEmulator,
} from '../../src/index.js';

export const MODEL = 'gemini-2.5-flash';

/** One request in REST form. */
export const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

/** An emulator whose time moves only when the test moves it, and the service over a client of it. */
export interface BatchJobWorld {
  emulator: RunningEmulator;
  client: GeminiClient;
  service: BatchJobService;
  /** Moves emulated time on: no sleeping for a job to end. */
  advance(ms: number): void;
  /**
   * Waits (bounded) until the job has left pending and running: once its time is up, the emulator
   * still writes its results file, which takes real I/O, not emulated time.
   */
  ended(name: string): Promise<BatchJobInfo>;
}

/** Starts the emulator (jobs take a minute of emulated time) and the service against it. */
export async function batchJobWorld(apiKey: string): Promise<BatchJobWorld> {
  let now = Date.parse('2026-01-05T10:00:00Z');
  const emulator = await startEmulator({ realNow: () => now, turnaroundMs: 60_000, seed: 3 });
  const client = createGeminiClient({ apiKey, baseUrl: emulator.url });
  return {
    emulator,
    client,
    service: new BatchJobService(client),
    advance: (ms) => {
      now += ms;
    },
    async ended(name) {
      for (let tries = 0; tries < 400; tries++) {
        const job = await client.getBatch(name);
        if (job.state !== 'pending' && job.state !== 'running') return job;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`${name} did not end`);
    },
  };
}
