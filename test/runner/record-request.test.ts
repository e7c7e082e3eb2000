import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputStore } from '../../src/outputs/index.js';
import { loadPrompt } from '../../src/prompts/index.js';
import { RecordRequestBuilder, RecordRequestError } from '../../src/runner/record-request.js';
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

describe('RecordRequestBuilder round contexts', () => {
  let dir: string;
  let outputs: OutputStore;
  let builder: RecordRequestBuilder;
  /** Predecessor outputs turned into context, i.e. output files read and parsed. */
  let extracted: string[];

  const writeOutput = (id: string, summary: string) =>
    outputs.write(id, {
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
    });

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
