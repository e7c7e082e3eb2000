// The whole batch loop on an in-process emulator: N chained text pages (books × pages) run to
// completion with a high time scale and short turnaround, so what is measured is wavebatch's own
// work (sync, packing, uploads, polling, parsing, validation, atomic writes), not waiting for Gemini.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { startEmulator } from '../src/emulator/index.js';
import { createGeminiClient } from '../src/gemini/index.js';
import { systemClock, type RunnerClock } from '../src/clock.js';
import type { RunnerEvent } from '../src/runner/events.js';
import { openWorkloadSession } from '../src/runner/workload-session.js';
import { writeCatalogWorkload } from './catalog-workload.js';
import { sizeFromEnv } from './figures.js';
import { MemoryPeak } from './memory-peak.js';
import { timeMethods } from './method-timer.js';
import { printOrchestratorReport } from './orchestrator-report.js';
import { PhaseSplit } from './phase-split.js';
import { timedApi, type CallTotals } from './timed-api.js';

const SEED = 3;
const PAGES_PER_BOOK = 20;
/** Emulated ms per real ms: a 2–10 emulated-second turnaround takes a few real ms (then one 25 ms emulator tick). */
const TIME_SCALE = 1000;

/**
 * Runs the benchmark. BENCH_RECORDS scales the workload (default 5,000 = 250 books × 20 pages);
 * BENCH_JOB_SOURCE=inline sends jobs inline instead of as uploaded JSONL files (the default).
 */
export async function benchOrchestrator(): Promise<void> {
  const records = sizeFromEnv('BENCH_RECORDS', 5_000);
  const books = Math.max(1, Math.round(records / PAGES_PER_BOOK));
  const inline = process.env.BENCH_JOB_SOURCE === 'inline';
  const root = await mkdtemp(join(tmpdir(), 'wb-bench-orchestrator-'));
  const emulator = await startEmulator({
    seed: SEED,
    timeScale: TIME_SCALE,
    turnaroundMs: { min: 2_000, max: 10_000 },
    storageDir: join(root, 'emulator'),
  });
  try {
    const configPath = await writeCatalogWorkload(root, {
      books,
      pages: PAGES_PER_BOOK,
      seed: SEED,
      execution: {
        max_concurrent_jobs: 10,
        max_requests_per_job: 100,
        inline_max_bytes: inline ? 10_000_000 : 0,
        poll_interval: '10ms',
        max_retries: 2,
      },
    });
    const config = await loadConfig(configPath, {});
    const api = timedApi(createGeminiClient({ apiKey: 'bench-key', baseUrl: emulator.url }));
    const events: RunnerEvent[] = [];
    const local = new Map<string, CallTotals>();
    const memory = new MemoryPeak();
    const cpuBefore = process.cpuUsage();
    const phases = new PhaseSplit();
    const clock: RunnerClock = {
      now: () => systemClock.now(),
      sleep: (ms, signal) => {
        phases.enter('sleep');
        return systemClock.sleep(ms, signal);
      },
    };
    const started = performance.now();
    const session = await openWorkloadSession(
      { ...config, apiKey: 'bench-key', api: { ...config.api, base_url: emulator.url } },
      { gemini: api.client, clock, onEvent: (event) => events.push(event) },
    );
    try {
      timeMethods(session.store, 'store', local);
      timeMethods(session.outputs, 'outputs', local);
      phases.watch(session.store);
      const summary = await session.runner.run();
      const wallMs = performance.now() - started;
      phases.finish();
      const cpu = process.cpuUsage(cpuBefore);
      printOrchestratorReport({
        records: books * PAGES_PER_BOOK,
        books,
        pagesPerBook: PAGES_PER_BOOK,
        jobSource: inline ? 'inline' : 'uploaded-file',
        timeScale: TIME_SCALE,
        seed: SEED,
        wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        summary,
        events,
        billed: emulator.ledger.entries().length,
        api: api.totals,
        phases: phases.totals,
        local,
        memory: memory.stop(),
      });
    } finally {
      await session.close();
    }
  } finally {
    await emulator.close();
    await rm(root, { recursive: true, force: true });
  }
}
