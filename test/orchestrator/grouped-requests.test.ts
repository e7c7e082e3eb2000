import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelCall, Responder } from '../../src/emulator/model/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload, OUTPUT_SINKS, type OutputSinkName } from '../fixtures/catalog-workload.js';
import { emulatorClock } from '../fixtures/emulator-clock.js';
import { runChild, type ChildOutcome } from '../fixtures/killable-run.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { billed } from '../fixtures/billed-figures.js';
import { emulatedConfig, openEmulatedSession } from '../fixtures/session.js';
import { WorkloadService } from '../../src/service/index.js';
import { emulatorSandbox } from '../emulator/harness.js';

/** One line per record, the same for a record alone and in a group, so the test's model answers both alike. */
const ITEM_LINE =
  'Item {{ r.id }}: transcribe page {{ r.page }} of {{ r.school }}.{% if r.context %} Carried over: {{ r.context }}{% endif %}';
/** Instructions that dwarf each item: what grouping saves on (they are sent once per request). */
const INSTRUCTIONS = `${'List every course on the page with its code, title, credits and prerequisites. '.repeat(8)}\n`;
const GROUPED_TEMPLATE = `${INSTRUCTIONS}{% for r in records %}${ITEM_LINE}\n{% endfor %}`;
const SINGLE_TEMPLATE = `${INSTRUCTIONS}{% set r = { id: record.id, page: record.page, school: record.school, context: context } %}${ITEM_LINE}\n`;

const LINE = /^Item (\S+): transcribe page (\S+) of (\S+?)\.(?: Carried over: (.*))?$/gm;

interface Item {
  id: string;
  page: string;
  school: string;
  context: string | undefined;
}

/** The items a request's prompt asks about. */
function itemsOf(call: ModelCall): Item[] {
  const contents = call.request.contents as Array<{ parts?: Array<{ text?: string }> }>;
  const text = contents[0]?.parts?.[0]?.text ?? '';
  return [...text.matchAll(LINE)].map((match) => ({
    id: match[1] as string,
    page: match[2] as string,
    school: match[3] as string,
    context: match[4],
  }));
}

/** The test's model: each page's answer follows from its own line (its context included), never from its neighbours. */
function answerFor(item: Item): { courses: string[]; carry_over: string } {
  return {
    courses: [`${item.school} page ${item.page}`],
    carry_over: `after ${item.school} ${item.page}${item.context ? ` (${item.context.length})` : ''}`,
  };
}

/** Answers like the real model would: one object, or one keyed by record id when the schema asks so. */
function catalogModel(
  options: { drop?: (item: Item, items: Item[]) => boolean; calls?: Item[][] } = {},
): Responder {
  return (call) => {
    const items = itemsOf(call);
    options.calls?.push(items);
    const schema = call.request.generationConfig?.responseJsonSchema as
      { properties?: Record<string, unknown> } | undefined;
    const grouped = !schema?.properties?.courses;
    if (!grouped) return { text: JSON.stringify(answerFor(items[0] as Item)) };
    const kept = items.filter((item) => !options.drop?.(item, items));
    return { text: JSON.stringify(Object.fromEntries(kept.map((item) => [item.id, answerFor(item)]))) };
  };
}

function writeWorkload(
  perRequest: number,
  sink: OutputSinkName,
  execution: Record<string, string | number> = {},
) {
  const workload = writeCatalogWorkload({
    books: 6,
    pages: 2,
    sink,
    execution: { records_per_request: perRequest, max_requests_per_job: 4, ...execution },
  });
  writeFileSync(
    join(workload.root, 'prompts', 'page', 'v1.jinja'),
    perRequest > 1 ? GROUPED_TEMPLATE : SINGLE_TEMPLATE,
  );
  return workload;
}

/** What `wavebatch status` says was billed, in requests. */
async function billedRequests(configPath: string, emulator: RunningEmulator): Promise<number | undefined> {
  const service = WorkloadService.open(await emulatedConfig(configPath, emulator));
  try {
    return (await service.status()).billed?.requests;
  } finally {
    await service.close();
  }
}

async function runWorkload(emulator: RunningEmulator, configPath: string, timeScale?: number) {
  const { session, events } = await openEmulatedSession(
    configPath,
    emulator,
    timeScale ? { clock: emulatorClock(emulator, timeScale) } : {},
  );
  const summary = await session.runner.run();
  await session.close();
  return { summary, events };
}

describe.each(OUTPUT_SINKS)(
  'grouped requests (records_per_request) on the emulator, %s output sink',
  (sink) => {
    const sandbox = emulatorSandbox();

    it('gives every record the output an ungrouped run gives it, chain context included, with fewer billed requests', async () => {
      const single = writeWorkload(1, sink);
      const grouped = writeWorkload(3, sink);
      sandbox.removeAfterTest(single.root);
      sandbox.removeAfterTest(grouped.root);
      const alone = await sandbox.startEmulator({ timeScale: 3600, seed: 3, responder: catalogModel() });
      const together = await sandbox.startEmulator({ timeScale: 3600, seed: 3, responder: catalogModel() });

      const first = await runWorkload(alone, single.configPath);
      const second = await runWorkload(together, grouped.configPath);
      expect(first.summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });
      expect(second.summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });

      const outputsAlone = readOutputs(join(single.root, 'out'), sink);
      const outputsTogether = readOutputs(join(grouped.root, 'out'), sink);
      expect(outputsTogether.size).toBe(12);
      for (const [id, output] of outputsAlone) expect(outputsTogether.get(id)?.output).toEqual(output.output);
      // The second pages were answered from their predecessors' outputs (their carry_over).
      for (const chain of grouped.chains) {
        const last = outputsTogether.get(chain[1] as string)?.output as { carry_over: string };
        expect(last.carry_over).toMatch(/\(\d+\)$/);
      }

      const billedAlone = alone.ledger.entries();
      const billedTogether = together.ledger.entries();
      expect(billedAlone).toHaveLength(12);
      // 6 first pages in groups of 3, then 6 second pages in groups of up to 3.
      expect(billedTogether.length).toBeGreaterThanOrEqual(4);
      expect(billedTogether.length).toBeLessThanOrEqual(6);
      for (const entry of billedTogether) expect(entry.key).toMatch(/^group:\d+(,\d+)*$/);
      // Each job says how many requests it sent (what the emulator billed it for) and how many records.
      const service = WorkloadService.open(await emulatedConfig(grouped.configPath, together));
      try {
        const jobs = await service.jobs();
        for (const job of jobs)
          expect(job.requestCount).toBe(billedTogether.filter((e) => e.batchName === job.remoteName).length);
        expect(jobs.reduce((sum, job) => sum + job.recordCount, 0)).toBe(12);
        expect(jobs.some((job) => job.recordCount > job.requestCount)).toBe(true);
        // Status, the run's totals and its report count the requests billed, not the records they carried.
        const status = await service.status();
        expect(status.billed?.requests).toBe(billedTogether.length);
        expect(status.billed?.byLane.batch?.requests).toBe(billedTogether.length);
        const [run] = await service.runs();
        expect(run?.totals?.requests).toBe(billedTogether.length);
        const report = (await service.report()) ?? '';
        expect(report).toContain(`${billedTogether.length} requests answered or failed in it`);
        // Each grouped request's first record counts it; each attempt names the request that carried it.
        const attempts = (await service.events({ kind: 'attempt' }, { outputs: false })).filter(
          (event) => event.runId === run?.id,
        );
        expect(attempts).toHaveLength(12);
        expect(attempts.reduce((sum, event) => sum + (event.requests ?? 0), 0)).toBe(billedTogether.length);
        const billedKeys = billedTogether.map((entry) => `${entry.batchName} ${entry.key}`).sort();
        const loggedKeys = attempts
          .filter((event) => event.requests === 1)
          .map((event) => `${event.jobName} ${event.requestId}`)
          .sort();
        expect(loggedKeys).toEqual(billedKeys);
      } finally {
        await service.close();
      }
      // Each record's share of its request's usage adds up to exactly what was billed.
      const togetherFigures = billed(billedTogether).all;
      const aloneFigures = billed(billedAlone).all;
      expect(second.summary.inputTokens).toBe(togetherFigures.inputTokens);
      expect(second.summary.outputTokens).toBe(togetherFigures.outputTokens);
      expect(togetherFigures.inputTokens).toBeLessThan(aloneFigures.inputTokens * 0.75);
      expect(togetherFigures.costUsd).toBeLessThan(aloneFigures.costUsd);
    });

    it('sends an item a grouped answer left out again on its own; the others of its group are done at once', async () => {
      const calls: Item[][] = [];
      const emulator = await sandbox.startEmulator({
        timeScale: 3600,
        seed: 4,
        // The first time page 1 of school 2 is asked for with others, the answer leaves it out.
        responder: catalogModel({
          calls,
          drop: (item, items) =>
            item.id === 'ST/school2/1900/page_1' &&
            items.length > 1 &&
            calls.filter((c) => c.some((i) => i.id === item.id)).length === 1,
        }),
      });
      const workload = writeWorkload(3, sink);
      sandbox.removeAfterTest(workload.root);
      const { summary, events } = await runWorkload(emulator, workload.configPath);

      expect(summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });
      const askedFor = calls.filter((items) => items.some((item) => item.id === 'ST/school2/1900/page_1'));
      expect(askedFor).toHaveLength(2);
      expect(askedFor[0]?.length).toBe(3);
      expect(askedFor[1]?.map((item) => item.id)).toEqual(['ST/school2/1900/page_1']);
      const failures = events.filter((event) => event.type === 'record-failed');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ recordId: 'ST/school2/1900/page_1', cause: 'missing_item' });
      // Its group's other two records were billed once, in that first request only.
      const neighbours = (askedFor[0] ?? [])
        .map((item) => item.id)
        .filter((id) => id !== 'ST/school2/1900/page_1');
      for (const id of neighbours) expect(calls.filter((c) => c.some((i) => i.id === id))).toHaveLength(1);
    });

    it('isolates an item that breaks its whole group: its neighbours are retried alone and done; it alone is dead-lettered', async () => {
      const poison = 'ST/school4/1900/page_1';
      const calls: Item[][] = [];
      const model = catalogModel({ calls });
      const emulator = await sandbox.startEmulator({
        timeScale: 3600,
        seed: 5,
        responder: (call) => {
          if (itemsOf(call).some((item) => item.id === poison)) {
            calls.push(itemsOf(call));
            return { text: '{"broken": ' };
          }
          return model(call);
        },
      });
      const workload = writeWorkload(3, sink, { max_retries: 1 });
      sandbox.removeAfterTest(workload.root);
      const { summary } = await runWorkload(emulator, workload.configPath);

      // The poisoned page and the page after it (which needs its output) are not done; all else is.
      expect(summary.counts).toMatchObject({ done: 10, dead: 1, total: 12 });
      const withPoison = calls.filter((items) => items.some((item) => item.id === poison));
      expect(withPoison[0]?.length).toBe(3);
      // After the failed group, it is only ever sent alone (max_retries 1: once more).
      expect(withPoison.slice(1).map((items) => items.length)).toEqual([1]);
      const outputs = readOutputs(join(workload.root, 'out'), sink);
      for (const item of withPoison[0] ?? []) {
        if (item.id === poison) expect(outputs.has(item.id)).toBe(false);
        else expect(outputs.has(item.id)).toBe(true);
      }
      // The broken group's answer was billed once, though each of its three records failed with it.
      expect(await billedRequests(workload.configPath, emulator)).toBe(emulator.ledger.entries().length);
    });

    it('counts only the requests Google billed when rows of a grouped job go missing', async () => {
      const emulator = await sandbox.startEmulator({
        timeScale: 3600,
        seed: 11,
        responder: catalogModel(),
        faults: { rowRates: { missing: 0.3 } },
      });
      const workload = writeWorkload(3, sink);
      sandbox.removeAfterTest(workload.root);
      const { summary, events } = await runWorkload(emulator, workload.configPath);

      expect(summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });
      const missing = events.filter((e) => e.type === 'record-failed' && e.cause === 'missing_result');
      expect(missing.length).toBeGreaterThan(0);
      // A row left out was never answered nor billed: it counts no request; its records went again.
      expect(await billedRequests(workload.configPath, emulator)).toBe(emulator.ledger.entries().length);
    });
  },
);

describe('grouped requests through kill -9', () => {
  const sandbox = emulatorSandbox();

  it('bills each record once and applies each item to its own record, even when records_per_request changes between crashes', async () => {
    const calls: Item[][] = [];
    const emulator = await sandbox.startEmulator({
      timeScale: 600,
      turnaroundMs: { min: 30_000, max: 90_000 },
      seed: 7,
      // Slow creates widen the window between a job's stored intent and its remote name.
      faults: { slowMs: { create: 150 } },
      responder: catalogModel({ calls }),
    });
    const workload = writeWorkload(3, 'jsonl', {
      max_concurrent_jobs: 2,
      max_requests_per_job: 2,
      poll_interval: 25,
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);

    let outcome: ChildOutcome = { finished: false, killedAfterEvents: 0 };
    let kills = 0;
    for (const [index, point] of [2, 4, 3, 6, 5, 8, 3, 7].entries()) {
      // Half-way, jobs written with groups of 3 are still out when groups of 2 become the rule.
      if (index === 4)
        writeFileSync(
          workload.configPath,
          readFileSync(workload.configPath, 'utf8').replace(
            'records_per_request: 3',
            'records_per_request: 2',
          ),
        );
      outcome = await runChild(workload.configPath, emulator.url, point);
      if (outcome.finished) break;
      kills++;
    }
    for (let attempt = 0; attempt < 5 && !outcome.finished; attempt++)
      outcome = await runChild(workload.configPath, emulator.url, null);
    expect(outcome.finished).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(4);

    const ids = workload.chains.flat();
    // Each record was in exactly one billed request, and its output is the answer to its own line.
    expect(emulator.ledger.entries()).toHaveLength(calls.length);
    const outputs = readOutputs(join(root, 'out'), 'jsonl');
    expect([...outputs.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const asked = calls.filter((items) => items.some((item) => item.id === id));
      expect(asked, `billed once: ${id}`).toHaveLength(1);
      const item = asked[0]?.find((entry) => entry.id === id) as Item;
      expect(outputs.get(id)?.output).toEqual(answerFor(item));
    }
    expect(calls.some((items) => items.length === 3)).toBe(true);
    // Results applied again after a crash count no request twice: status says what was billed.
    const service = WorkloadService.open(await emulatedConfig(workload.configPath, emulator));
    try {
      expect((await service.status()).billed?.requests).toBe(emulator.ledger.entries().length);
    } finally {
      await service.close();
    }
  }, 120_000);
});

describe('grouped requests on a synchronous lane', () => {
  const sandbox = emulatorSandbox();

  it('sends each record on Flex as a group of one, with the grouped prompt, and keeps its answer', async () => {
    const calls: Item[][] = [];
    const emulator = await sandbox.startEmulator({
      timeScale: 3000,
      seed: 6,
      tiers: { flex: { latencyMs: { min: 60_000, max: 120_000 }, shedRate: 0 } },
      responder: catalogModel({ calls }),
    });
    const workload = writeWorkload(3, 'files', { mode: 'flex', sync_concurrency: 4 });
    sandbox.removeAfterTest(workload.root);
    const { summary } = await runWorkload(emulator, workload.configPath, 3000);

    expect(summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });
    expect(calls.map((items) => items.length)).toEqual(Array.from({ length: 12 }, () => 1));
    const outputs = readOutputs(join(workload.root, 'out'), 'files');
    for (const id of workload.chains.flat()) {
      const item = calls.flat().find((asked) => asked.id === id) as Item;
      expect(outputs.get(id)?.output).toEqual(answerFor(item));
    }
    for (const entry of emulator.ledger.entries()) expect(entry.lane).toBe('flex');
  });
});
