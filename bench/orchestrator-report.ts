// What the orchestrator benchmark prints: throughput, the time split by phase and by API call kind,
// the costliest store and output-store methods, CPU and memory.
import type { RunSummary } from '../src/runner/run-summary.js';
import type { RunnerEvent } from '../src/runner/events.js';
import {
  machineConditions,
  megabytes,
  microsecondsEach,
  milliseconds,
  perSecond,
  printFigure,
  times,
} from './figures.js';
import type { MemoryGrowth } from './memory-peak.js';
import type { Phase } from './phase-split.js';
import type { CallKind, CallTotals } from './timed-api.js';

/** How many of the costliest store / output-store methods are listed. */
const LISTED_METHODS = 8;

/** Everything one orchestrator run measured. */
export interface OrchestratorMeasurements {
  records: number;
  books: number;
  pagesPerBook: number;
  jobSource: 'inline' | 'uploaded-file';
  timeScale: number;
  seed: number;
  wallMs: number;
  cpuMs: number;
  summary: RunSummary;
  events: RunnerEvent[];
  billed: number;
  api: Record<CallKind, CallTotals>;
  phases: Record<Phase, number>;
  local: Map<string, CallTotals>;
  memory: MemoryGrowth;
}

/** Prints the orchestrator figures, one per line, in a stable order. */
export function printOrchestratorReport(m: OrchestratorMeasurements): void {
  const share = (ms: number) => `${milliseconds(ms)} (${((ms / m.wallMs) * 100).toFixed(0)}%)`;
  const apiMs = (kinds: CallKind[]) => kinds.reduce((sum, kind) => sum + m.api[kind].ms, 0);
  const count = (type: RunnerEvent['type']) => m.events.filter((event) => event.type === type).length;
  const allApiMs = apiMs(['upload', 'create', 'poll', 'download', 'countTokens', 'other']);
  const apiBytes = m.api.upload.bytes + m.api.download.bytes;

  console.log(
    `orchestrator: ${m.records.toLocaleString('en-US')} records = ${m.books} chains × ${m.pagesPerBook} pages, ` +
      `${m.jobSource} jobs, emulator timeScale ${m.timeScale} (seed ${m.seed})`,
  );
  printFigure('machine', machineConditions());
  printFigure(
    'outcome',
    `${m.summary.counts.done} done, ${m.summary.counts.dead} dead, ${count('record-failed')} failed attempts, ${m.billed} requests billed`,
  );
  printFigure(
    'wall time',
    `${milliseconds(m.wallMs)}  ${perSecond(m.records, m.wallMs, 'records')}  ${microsecondsEach(m.wallMs, m.records)}/record`,
  );
  printFigure(
    'jobs',
    `${m.summary.jobsSubmitted} submitted in ${count('progress')} passes, ${(m.records / Math.max(1, m.summary.jobsSubmitted)).toFixed(0)} records/job`,
  );
  printFigure(
    'phase: prepare (open, sync, calibrate)',
    `${share(m.phases.prepare)}  countTokens ${milliseconds(apiMs(['countTokens']))}`,
  );
  printFigure(
    'phase: service (poll, apply results)',
    `${share(m.phases.service)}  API ${milliseconds(apiMs(['poll', 'download']))}: ${m.api.poll.calls} polls, ${m.api.download.calls} downloads`,
  );
  printFigure(
    'phase: submit (pack, upload, create)',
    `${share(m.phases.submit)}  API ${milliseconds(apiMs(['upload', 'create', 'other']))}: ${m.api.upload.calls} uploads, ${m.api.create.calls} creates`,
  );
  printFigure('phase: summary after each pass', share(m.phases.summary));
  printFigure('phase: poll sleeps', share(m.phases.sleep));
  if (m.phases.unrecognised > 0) printFigure('phase: unrecognised', share(m.phases.unrecognised));
  printFigure('wall vs time in API calls', times(m.wallMs, allApiMs));
  printFigure(
    'local work (wall - API - sleeps)',
    `${share(m.wallMs - allApiMs - m.phases.sleep)}  ${microsecondsEach(m.wallMs - allApiMs - m.phases.sleep, m.records)}/record`,
  );
  const costliest = [...m.local.entries()]
    .filter(([, entry]) => entry.calls > 0)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, LISTED_METHODS);
  for (const [name, entry] of costliest) {
    printFigure(
      `  ${name}`,
      `${share(entry.ms)}  ${entry.calls} calls, ${microsecondsEach(entry.ms, entry.calls)}/call`,
    );
  }
  printFigure(
    'CPU (runner + emulator)',
    `${milliseconds(m.cpuMs)}  ${microsecondsEach(m.cpuMs, m.records)}/record  ${times(m.cpuMs, m.wallMs)} of wall`,
  );
  printFigure(
    'bytes through the API',
    `${megabytes(apiBytes)} (${megabytes(m.api.upload.bytes)} up, ${megabytes(m.api.download.bytes)} down)`,
  );
  printFigure(
    'peak RSS growth',
    `+${megabytes(m.memory.rss)}  ${(m.memory.rss / m.records / 1000).toFixed(1)} kB/record` +
      (apiBytes > 0 ? `  ${times(m.memory.rss, apiBytes)} API bytes` : ''),
  );
  printFigure(
    'peak heap growth',
    `+${megabytes(m.memory.heap)}  retained after GC +${megabytes(m.memory.retainedHeap)}`,
  );
}
