import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputStore, type CommittedOutput, type OutputDocument } from '../../src/outputs/index.js';
import { loadPrompt } from '../../src/prompts/index.js';
import {
  MissingContextError,
  RecordRequestBuilder,
  RecordRequestError,
  ROUND_PREFETCH_BYTES,
} from '../../src/runner/record-request.js';
import type { StoredRecord } from '../../src/store/store.js';

function page(position: number): StoredRecord {
  return {
    id: `b/p${position}`,
    chainId: 'b',
    position,
    vars: { page: position },
    media: [],
    predecessorId: position > 1 ? `b/p${position - 1}` : null,
    status: 'ready',
    attempts: 0,
    jobId: null,
    remaining: 1,
  };
}

/** A predecessor's output document whose context is `{ summary }`. */
function summaryDocument(id: string, summary: string): OutputDocument {
  return {
    id,
    output: { summary },
    meta: {
      prompt: { name: 'page', version: 'v1', hash: 'h' },
      model: 'm',
      job: 'j',
      attempt: 0,
      usage: { inputTokens: 1, outputTokens: 1 },
      completedAt: '2026-01-01T00:00:00.000Z',
    },
  };
}

describe('RecordRequestBuilder round contexts', () => {
  let dir: string;
  let outputs: OutputStore;
  let builder: RecordRequestBuilder;
  /** Predecessor outputs turned into context, i.e. output files read and parsed. */
  let extracted: string[];

  const writeOutput = (id: string, summary: string) => outputs.write(id, summaryDocument(id, summary));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-request-'));
    mkdirSync(join(dir, 'prompts', 'page'), { recursive: true });
    writeFileSync(
      join(dir, 'prompts', 'page', 'v1.jinja'),
      'Page {{ record.page }}.{% if context %} Before: {{ context.summary }}{% endif %}',
    );
    outputs = new OutputStore(join(dir, 'out'));
    extracted = [];
    builder = new RecordRequestBuilder({
      prompt: await loadPrompt(join(dir, 'prompts'), 'page', 'v1'),
      outputs,
      extractContext: (output) => {
        const summary = (output as { summary: string }).summary;
        extracted.push(summary);
        return { summary };
      },
      generationConfig: {},
      responseJsonSchema: undefined,
      tokenScale: () => 1,
    });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each predecessor once per round and builds the same request as outside one', async () => {
    await writeOutput('b/p1', 'first');
    const outside = await builder.build(page(2));
    expect(outside.line).toContain('Before: first');

    builder.beginRound();
    const sized = await builder.build(page(2));
    const written = await builder.build(page(2));
    builder.endRound();
    expect(sized.line).toBe(outside.line);
    expect(written.line).toBe(outside.line);
    expect(written.promptHash).toBe(outside.promptHash);
    expect(extracted).toEqual(['first', 'first']);
  });

  it('forgets contexts when the round ends, so a rewritten output is read again', async () => {
    await writeOutput('b/p1', 'first');
    builder.beginRound();
    await builder.build(page(2));
    builder.endRound();

    await writeOutput('b/p1', 'second');
    expect((await builder.build(page(2))).line).toContain('Before: second');
    builder.beginRound();
    expect((await builder.build(page(2))).line).toContain('Before: second');
    builder.endRound();
    expect(extracted).toEqual(['first', 'second', 'second']);
  });

  it('averages the bytes of the requests it builds per record, not counting those a round kept', async () => {
    expect(builder.meanRecordBytes).toBe(0);
    const short = await builder.build(page(1));
    expect(builder.meanRecordBytes).toBe(short.bytes);
    const long = await builder.build({ ...page(1), id: 'b/long', vars: { page: 'x'.repeat(3000) } });
    expect(long.bytes).toBeGreaterThan(short.bytes + 3000);
    expect(builder.meanRecordBytes).toBe((short.bytes + long.bytes) / 2);
    builder.beginRound();
    await builder.build(page(1));
    await builder.build(page(1));
    builder.endRound();
    expect(builder.meanRecordBytes).toBeCloseTo((2 * short.bytes + long.bytes) / 3, 9);
  });

  it('does not keep a missing context: the output written later in the round is read', async () => {
    builder.beginRound();
    const missing = await builder.build(page(2)).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(RecordRequestError);
    expect((missing as RecordRequestError).message).toContain('b/p1');
    await writeOutput('b/p1', 'late');
    expect((await builder.build(page(2))).line).toContain('Before: late');
    builder.endRound();
  });
});

describe('RecordRequestBuilder prefetch of a round’s contexts', () => {
  let dir: string;
  const summaries = new Map<string, string>();
  /** What the builder asked the outputs for: single reads, and each readOutputs' ids. */
  let reads: string[];
  let batches: string[][];
  let failReadMany: boolean;

  const documentOf = (id: string): OutputDocument | null => {
    const summary = summaries.get(id);
    return summary === undefined ? null : summaryDocument(id, summary);
  };
  const outputs = {
    read: async (id: string) => {
      reads.push(id);
      return documentOf(id);
    },
    async *readOutputs(wanted: readonly CommittedOutput[]) {
      batches.push(wanted.map((entry) => entry.id));
      if (failReadMany) throw new Error('a damaged line');
      for (const entry of wanted) {
        const document = documentOf(entry.id);
        if (document) yield { id: entry.id, output: document.output };
      }
    },
  };
  /** Page `position` of book b, its predecessor's line `length` bytes long. */
  const located = (position: number, length = 100): StoredRecord => ({
    ...page(position),
    predecessorOutput: { shard: 1, offset: position * 1000, length },
  });

  const builderFor = async () =>
    new RecordRequestBuilder({
      prompt: await loadPrompt(join(dir, 'prompts'), 'page', 'v1'),
      outputs,
      extractContext: (output) => output,
      generationConfig: {},
      responseJsonSchema: undefined,
      tokenScale: () => 1,
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-prefetch-'));
    mkdirSync(join(dir, 'prompts', 'page'), { recursive: true });
    writeFileSync(
      join(dir, 'prompts', 'page', 'v1.jinja'),
      'Page {{ record.page }}.{% if context %} Before: {{ context.summary }}{% endif %}',
    );
    summaries.clear();
    for (let position = 1; position <= 6; position++) summaries.set(`b/p${position}`, `summary ${position}`);
    reads = [];
    batches = [];
    failReadMany = false;
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the predecessors of a round in one readOutputs, then builds each request as a build alone does', async () => {
    const records = [2, 3, 4, 5, 6].map((position) => located(position));
    const builder = await builderFor();
    const alone: string[] = [];
    for (const record of records) alone.push((await builder.build(record)).line);
    expect(reads).toHaveLength(5);
    // Outside a round nothing is kept, so nothing is read ahead.
    await builder.prefetchContexts(records);
    expect(batches).toEqual([]);

    reads = [];
    builder.beginRound();
    await builder.prefetchContexts(records);
    const inRound: string[] = [];
    for (const record of records) inRound.push((await builder.build(record)).line);
    builder.endRound();
    expect(batches).toEqual([['b/p1', 'b/p2', 'b/p3', 'b/p4', 'b/p5']]);
    expect(reads).toEqual([]);
    expect(inRound).toEqual(alone);
    expect(inRound[0]).toContain('Before: summary 1');
  });

  it('reads ahead up to ROUND_PREFETCH_BYTES of lines; the rest, and all of a failed read-ahead, are read as built', async () => {
    const half = ROUND_PREFETCH_BYTES / 2;
    const records = [located(2, half), located(3, half), located(4, half)];
    const builder = await builderFor();
    builder.beginRound();
    await builder.prefetchContexts(records);
    for (const record of records) await builder.build(record);
    builder.endRound();
    expect(batches).toEqual([['b/p1', 'b/p2']]);
    expect(reads).toEqual(['b/p3']);

    // A line the read-ahead could not read is read again by the build that needs it, which reports it.
    batches = [];
    reads = [];
    failReadMany = true;
    summaries.delete('b/p2');
    builder.beginRound();
    await builder.prefetchContexts(
      records
        .slice(0, 2)
        .map((record) => ({ ...record, predecessorOutput: { shard: 1, offset: 0, length: 10 } })),
    );
    expect((await builder.build(records[0] as StoredRecord)).line).toContain('Before: summary 1');
    const missing = await builder.build(records[1] as StoredRecord).catch((error: unknown) => error);
    builder.endRound();
    expect(missing).toBeInstanceOf(MissingContextError);
    expect(batches).toHaveLength(1);
    expect(reads).toEqual(['b/p1', 'b/p2']);
  });
});
