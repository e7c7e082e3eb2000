import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorOptions, LedgerEntry } from '../../src/emulator/index.js';
import { useEmulatedWorkload, type EmulatedWorkload } from '../fixtures/emulated-workload.js';
import type { CatalogWorkloadOptions } from '../fixtures/catalog-workload.js';
import { startFakeBraintrust, type FakeBraintrust } from '../fixtures/fake-braintrust.js';
import { startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.js';
import {
  add,
  billed,
  expectFigures,
  filesUnder,
  NONE,
  tokenUsageSums,
  type Figures,
} from '../fixtures/billed-figures.js';

interface RecordCounts {
  done: number;
  dead: number;
  pending: number;
}

interface AttemptEvent {
  kind: string;
  type: string;
  runId: number;
  lane: string;
  recordId: string;
  jobName: string | null;
  cause: string | null;
  requests: number | null;
  inputTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  costUsd: number | null;
}

/**
 * Runs the workload once, with OpenTelemetry and Braintrust receiving, then reads every surface
 * that reports its figures and checks each against the emulator's ledger and the files on disk.
 */
function crossCheck(
  title: string,
  options: {
    emulator: EmulatorOptions;
    workload: CatalogWorkloadOptions;
    /** Before the run: faults by key, a config edit. */
    prepare?: (workload: EmulatedWorkload) => void;
    /** Requeue the dead letters and run again: the latest run's figures are its own. */
    rerun?: boolean;
    /** What the run must have met for the check to mean something. */
    met: (ledger: readonly LedgerEntry[], events: readonly AttemptEvent[]) => void;
  },
) {
  describe(title, () => {
    const workload = useEmulatedWorkload({ emulator: options.emulator, workload: options.workload });
    let receiver: OtlpReceiver;
    let braintrust: FakeBraintrust;

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      braintrust = await startFakeBraintrust();
    });
    afterAll(async () => {
      await receiver.close();
      await braintrust.close();
    });

    it('reports the same requests, tokens, cost and record counts on every surface', async () => {
      options.prepare?.(workload);
      const cli = async (args: string[]) => {
        const result = await workload.cli(args);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
        return result.stdout;
      };
      const runOnce = () =>
        workload.cli(['run', '--json'], {
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            BRAINTRUST_API_KEY: 'figures-bt-key',
            BRAINTRUST_PROJECT: 'figures',
            BRAINTRUST_APP_URL: braintrust.url,
          },
        });
      let run = await runOnce();
      expect(run.code, run.stderr).not.toBeNull();
      // Billed before the latest run.
      let before = 0;
      if (options.rerun) {
        before = workload.emulator.ledger.entries().length;
        await cli(['requeue']);
        run = await runOnce();
        expect(run.code, run.stderr).not.toBeNull();
      }
      const ledger = workload.emulator.ledger.entries();
      const truth = billed(ledger);
      const latest = billed(ledger.slice(before));
      if (options.rerun) expect(ledger.length, 'the second run billed something').toBeGreaterThan(before);
      // Every surface at once: each is a process of its own, reading the same finished store.
      const [logText, statusText, runsText, report, jobsText, exportText, failuresText] = await Promise.all([
        cli(['log', '--json', '--kind', 'attempt']),
        cli(['status', '--json']),
        cli(['runs', '--json']),
        cli(['report']),
        cli(['jobs', '--workload', '--json']),
        cli(['export', '-q']),
        cli(['failures', '--json']),
      ]);
      const events = logText
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as AttemptEvent);
      options.met(ledger, events);
      const latestRunId = Math.max(...events.map((event) => event.runId));
      const latestEvents = events.filter((event) => event.runId === latestRunId);

      // The inference log, in all and per lane.
      const logged = (lane?: string) =>
        events
          .filter((event) => lane === undefined || event.lane === lane)
          .reduce(
            (sum, event) =>
              add(sum, { ...event, requests: event.requests ?? 1, costUsd: event.costUsd ?? 0 }),
            NONE,
          );
      expectFigures('log', logged(), truth.all);
      for (const [lane, figures] of truth.byLane) expectFigures(`log ${lane}`, logged(lane), figures);
      expect.soft(new Set(events.map((event) => event.lane))).toEqual(new Set(truth.byLane.keys()));

      // The run summary.
      const summary = JSON.parse(run.stdout) as {
        counts: { done: number; dead: number; total: number };
        inputTokens: number;
        outputTokens: number;
        costUsd: number;
        lanes: Record<string, { costUsd: number; attempts: number; done: number }>;
      };
      // Its tokens are every run's (as its closing lines say), its cost and lanes the run's own.
      expectFigures(
        'run --json',
        { inputTokens: summary.inputTokens, outputTokens: summary.outputTokens },
        truth.all,
      );
      expect.soft(summary.costUsd, 'run --json costUsd').toBeCloseTo(latest.all.costUsd, 9);
      expect
        .soft(Object.keys(summary.lanes).sort(), 'run --json lanes')
        .toEqual([...latest.byLane.keys()].sort());
      for (const lane of latest.byLane.keys()) {
        const onLane = latestEvents.filter((event) => event.lane === lane);
        expect.soft(summary.lanes[lane]?.attempts, `run --json lanes.${lane}.attempts`).toBe(onLane.length);
        expect
          .soft(summary.lanes[lane]?.done, `run --json lanes.${lane}.done`)
          .toBe(onLane.filter((event) => event.type === 'done').length);
      }
      for (const [lane, figures] of latest.byLane)
        expect
          .soft(summary.lanes[lane]?.costUsd, `run --json lanes.${lane}.costUsd`)
          .toBeCloseTo(figures.costUsd, 9);

      // status.
      const status = JSON.parse(statusText) as {
        records: {
          total: number;
          done: number;
          dead: number;
          inFlight: number;
          ready: number;
          blocked: number;
        };
        billed: Figures & { byLane: Record<string, Figures> };
        cost: { soFar: number };
        failures: { total: number };
        usage: { completedRecords: number; inputTokens: number; outputTokens: number };
      };
      expectFigures('status billed', status.billed, truth.all);
      expect.soft(status.cost.soFar, 'status cost.soFar').toBeCloseTo(truth.all.costUsd, 9);
      for (const [lane, figures] of truth.byLane)
        expectFigures(`status billed.byLane.${lane}`, status.billed.byLane[lane] ?? NONE, figures);
      expect.soft(Object.keys(status.billed.byLane).sort()).toEqual([...truth.byLane.keys()].sort());

      // usage: the tokens of the successful requests, the completed records'.
      const succeeded = events.filter((event) => event.type === 'done');
      expect.soft(status.usage, 'status usage').toEqual({
        completedRecords: succeeded.length,
        inputTokens: succeeded.reduce((sum, event) => sum + event.inputTokens, 0),
        outputTokens: succeeded.reduce((sum, event) => sum + event.outputTokens, 0),
      });
      const exportedUsage = exportText
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(
          (line) =>
            (JSON.parse(line) as { meta: { usage: { inputTokens: number; outputTokens: number } } }).meta
              .usage,
        );
      expect
        .soft(
          {
            inputTokens: exportedUsage.reduce((sum, usage) => sum + usage.inputTokens, 0),
            outputTokens: exportedUsage.reduce((sum, usage) => sum + usage.outputTokens, 0),
          },
          'export usage',
        )
        .toEqual({ inputTokens: status.usage.inputTokens, outputTokens: status.usage.outputTokens });

      // runs.
      const runs = JSON.parse(runsText) as Array<{
        totals: Figures & { counts: { done: number; dead: number; total: number } };
      }>;
      expect(runs).toHaveLength(options.rerun ? 2 : 1);
      expectFigures('runs --json', runs[0]?.totals ?? NONE, latest.all);
      if (options.rerun)
        expectFigures('runs --json, first', runs[1]?.totals ?? NONE, billed(ledger.slice(0, before)).all);

      // The report: its totals line and its per-lane table.
      const tokensLine =
        /([\d,]+) input, ([\d,]+) output \(([\d,]+) of them thinking\) tokens; \*\*\$([\d.]+)\*\*/.exec(
          report,
        );
      const number = (text: string | undefined) => Number((text ?? 'NaN').replaceAll(',', ''));
      expectFigures(
        'report',
        {
          inputTokens: number(tokensLine?.[1]),
          outputTokens: number(tokensLine?.[2]),
          thoughtsTokens: number(tokensLine?.[3]),
        },
        latest.all,
      );
      expect.soft(number(tokensLine?.[4]), 'report cost').toBeCloseTo(latest.all.costUsd, 6);
      const requestsLine = /(\d+) requests answered or failed in it/.exec(report);
      expect.soft(number(requestsLine?.[1]), 'report requests').toBe(latest.all.requests);
      for (const [lane, figures] of latest.byLane) {
        const rows = report
          .split('\n')
          .filter((line) => line.startsWith(`| gemini-2.5-flash | ${lane} |`))
          .map((line) => line.split('|').map((cell) => cell.trim()));
        const sum = (column: number) =>
          rows.reduce((total, row) => total + number(row[column]?.replace('$', '')), 0);
        expect.soft(sum(5), `report ${lane} input`).toBe(figures.inputTokens);
        expect.soft(sum(6), `report ${lane} output`).toBe(figures.outputTokens);
        expect.soft(sum(7), `report ${lane} thinking`).toBe(figures.thoughtsTokens);
        expect.soft(sum(8), `report ${lane} cost`).toBeCloseTo(figures.costUsd, 6);
      }

      // The report's jobs: each one's cost is its ledger entries'.
      for (const line of report.split('\n').filter((row) => row.startsWith('| batches/'))) {
        const cells = line.split('|').map((cell) => cell.trim());
        const ofJob = billed(ledger.filter((entry) => entry.batchName === cells[1])).all;
        expect
          .soft(number(cells[7]?.replace('$', '')), `report job ${cells[1]} cost`)
          .toBeCloseTo(ofJob.costUsd, 6);
        expect.soft(number(cells[3]), `report job ${cells[1]} requests`).toBe(ofJob.requests);
      }

      // jobs: each batch job's billed tokens are its ledger entries'.
      const jobs = JSON.parse(jobsText) as Array<{
        remoteName: string | null;
        inputTokens: number;
        outputTokens: number;
      }>;
      for (const job of jobs) {
        const ofJob = billed(ledger.filter((entry) => entry.batchName === job.remoteName)).all;
        expect.soft(job.inputTokens, `jobs ${job.remoteName} inputTokens`).toBe(ofJob.inputTokens);
        expect.soft(job.outputTokens, `jobs ${job.remoteName} outputTokens`).toBe(ofJob.outputTokens);
      }

      // OpenTelemetry: a span per attempt, and the cost counter.
      const spans = receiver.spans().filter((span) => span.name.startsWith('generate_content'));
      expect.soft(spans.length, 'spans').toBe(events.length);
      const { requests: _spanRequests, ...spanFigures } = spans.reduce(
        (sum, span) =>
          add(sum, {
            inputTokens: Number(span.attributes['gen_ai.usage.input_tokens']),
            outputTokens: Number(span.attributes['gen_ai.usage.output_tokens']),
            thoughtsTokens: Number(span.attributes['wavebatch.usage.thoughts_tokens']),
            costUsd: Number(span.attributes['wavebatch.cost.usd'] ?? 0),
          }),
        NONE,
      );
      expectFigures('spans', spanFigures, truth.all);
      const counted = receiver.sumPoints('wavebatch.cost');
      // Cumulative series: the latest point of each series holds its sum.
      const series = new Map<string, number>();
      for (const point of counted)
        series.set(JSON.stringify(point.attributes) + point.startTimeUnixNano, point.value);
      expect
        .soft(
          [...series.values()].reduce((sum, value) => sum + value, 0),
          'metric wavebatch.cost',
        )
        .toBeCloseTo(truth.all.costUsd, 9);
      const attemptsCounted = new Map<string, number>();
      for (const point of receiver.sumPoints('wavebatch.attempts'))
        attemptsCounted.set(JSON.stringify(point.attributes) + point.startTimeUnixNano, point.value);
      expect
        .soft(
          [...attemptsCounted.values()].reduce((sum, value) => sum + value, 0),
          'metric wavebatch.attempts',
        )
        .toBe(events.length);
      const tokenSums = tokenUsageSums(receiver);
      expect.soft(tokenSums.input, 'metric gen_ai.client.token.usage input').toBe(truth.all.inputTokens);
      expect.soft(tokenSums.output, 'metric gen_ai.client.token.usage output').toBe(truth.all.outputTokens);

      // Braintrust: a row per attempt, with its tokens and cost.
      const rows = braintrust.spans().filter((row) => row.span_attributes?.type === 'llm');
      expect.soft(rows.length, 'braintrust rows').toBe(events.length);
      const {
        requests: _rowRequests,
        thoughtsTokens: _rowThoughts,
        ...rowFigures
      } = rows.reduce(
        (sum, row) =>
          add(sum, {
            inputTokens: row.metrics?.prompt_tokens ?? 0,
            outputTokens: row.metrics?.completion_tokens ?? 0,
            costUsd: row.metrics?.cost_usd ?? 0,
          }),
        NONE,
      );
      expectFigures('braintrust', rowFigures, truth.all);

      // Record counts: status, the run summary, runs, the report, failures, export and the disk.
      const counts: RecordCounts = {
        done: status.records.done,
        dead: status.records.dead,
        pending: status.records.total - status.records.done - status.records.dead,
      };
      const countsOf = (c: { done: number; dead: number; total: number }) => ({
        done: c.done,
        dead: c.dead,
        pending: c.total - c.done - c.dead,
      });
      expect.soft(countsOf(summary.counts), 'run --json counts').toEqual(counts);
      expect
        .soft(countsOf(runs[0]?.totals.counts ?? { done: 0, dead: 0, total: 0 }), 'runs counts')
        .toEqual(counts);
      const reportCount = (state: string) =>
        number(new RegExp(`\\| ${state} \\| (\\d+) \\|`).exec(report)?.[1]);
      expect
        .soft(
          {
            done: reportCount('done'),
            dead: reportCount('dead'),
            pending: reportCount('total') - reportCount('done') - reportCount('dead'),
          },
          'report counts',
        )
        .toEqual(counts);
      const onDisk = filesUnder(join(workload.root, 'out')).filter((path) => path.endsWith('.json'));
      expect.soft(onDisk.length, 'outputs on disk').toBe(counts.done);
      const exported = exportText.trim().split('\n').filter(Boolean);
      expect.soft(exported.length, 'export lines').toBe(counts.done);
      const failures = JSON.parse(failuresText) as Array<{ final: boolean; recordId: string }>;
      // A record's latest attempt says where it stands (a dead letter requeued and done since is done).
      const lastOf = new Map(events.map((event) => [event.recordId, event.type]));
      const deadNow = [...lastOf].filter(([, type]) => type === 'dead').map(([id]) => id);
      expect.soft(deadNow.length, 'log dead').toBe(counts.dead);
      expect
        .soft([...lastOf.values()].filter((type) => type === 'done').length, 'log done')
        .toBe(counts.done);
      expect
        .soft(
          deadNow.every((id) => failures.some((failure) => failure.final && failure.recordId === id)),
          'failures final',
        )
        .toBe(true);
      // Every failed try is a failure, a synchronous one cut at MAX_TOKENS and sent again too.
      expect
        .soft(failures.length, 'failures vs log')
        .toBe(events.filter((event) => event.cause !== null).length);
      expect.soft(status.failures.total, 'status failures').toBe(failures.length);
      // show: a dead record's history is its attempts in the log.
      const dead = events.find((event) => event.recordId === deadNow[0]);
      if (dead) {
        const shown = JSON.parse(await cli(['show', dead.recordId, '--json'])) as {
          record: { status: string };
          events: unknown[];
        };
        expect.soft(shown.record.status).toBe('dead');
        expect
          .soft(shown.events.length, 'show events')
          .toBe(events.filter((event) => event.recordId === dead.recordId).length);
      }
      expect.soft(readFileSync(join(workload.root, 'state', 'report.md'), 'utf8')).toBe(report);
    }, 60_000);
  });
}

crossCheck('(a) batch with record faults, retries and dead letters', {
  emulator: {
    turnaroundMs: 20_000,
    seed: 12,
    faults: {
      rates: { invalid_json: 0.1, safety: 0.1, max_tokens: 0.1, request_error: 0.1 },
      byKey: { 'ST/school1/1900/page_1': ['request_error'] },
    },
  },
  workload: { books: 4, pages: 3, execution: { max_retries: 1, poll_interval: '200ms' } },
  met: (ledger, events) => {
    expect(events.some((event) => event.type === 'dead')).toBe(true);
    expect(events.some((event) => event.type === 'retry')).toBe(true);
    expect(new Set(ledger.map((entry) => entry.outcome)).size).toBeGreaterThan(2);
    // An error row: failed, and not billed.
    expect(events.some((event) => event.cause !== null && event.requests === 0)).toBe(true);
  },
});

crossCheck('(b) Flex with answers cut at MAX_TOKENS and sent again, and refused requests', {
  emulator: {
    seed: 21,
    faults: { rates: { max_tokens: 0.4 } },
    responder: (call) =>
      JSON.stringify(call.request).includes('page 2 of school1')
        ? { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'refused by the test' } }
        : undefined,
  },
  workload: { books: 4, pages: 2, execution: { mode: 'flex', max_retries: 2 } },
  prepare: (workload) =>
    workload.editConfig(
      '  name: gemini-2.5-flash\n',
      '  name: gemini-2.5-flash\n  generation_config:\n    maxOutputTokens: 256\n',
    ),
  met: (ledger, events) => {
    expect(ledger.length).toBeGreaterThan(events.filter((event) => event.type === 'done').length);
    expect(events.some((event) => event.type === 'dead')).toBe(true);
  },
});

crossCheck('(c) auto with a deadline, over several lanes', {
  emulator: {
    timeScale: 600,
    seed: 33,
    turnaroundMs: { min: 10 * 60_000, max: 30 * 60_000 },
    tiers: { flex: { latencyMs: { min: 60_000, max: 5 * 60_000 } } },
    faults: { rates: { invalid_json: 0.1 } },
  },
  workload: {
    books: 6,
    pages: 1,
    pagesPerBook: [5, 1, 1, 1, 1, 1],
    execution: { mode: 'auto', deadline: '30m', max_retries: 2, poll_interval: '1m' },
  },
  met: (ledger) => {
    expect(new Set(ledger.map((entry) => entry.lane)).size).toBeGreaterThan(1);
  },
});

crossCheck('(d) four records per request', {
  emulator: { turnaroundMs: 20_000, seed: 44, faults: { rates: { invalid_json: 0.1, safety: 0.1 } } },
  workload: {
    books: 8,
    pages: 2,
    execution: { records_per_request: 4, max_retries: 1, poll_interval: '200ms' },
  },
  rerun: true,
  prepare: (workload) =>
    writeFileSync(
      join(workload.root, 'prompts', 'page', 'v1.jinja'),
      '{% for r in records %}Item {{ r.id }}: transcribe page {{ r.page }} of {{ r.school }}.\n{% endfor %}',
    ),
  met: (ledger, events) => {
    expect(ledger.length).toBeLessThan(events.length);
  },
});
