import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createGeminiClient,
  toBatchFileLine,
  toInlinedRequest,
  type BatchJobInfo,
  type GeminiClient,
  type ModelRequest,
} from '../../src/gemini/index.js';
import { emulatorSandbox } from './harness.js';

const MODEL = 'gemini-2.5-flash';
const schema = {
  type: 'object',
  properties: { title: { type: 'string' }, year: { type: 'integer', minimum: 1800, maximum: 1950 } },
  required: ['title', 'year'],
};
const requestFor = (page: string): ModelRequest => ({
  contents: [{ role: 'user', parts: [{ text: `Transcribe ${page}` }] }],
  systemInstruction: 'Return the catalogue entry as JSON.',
  generationConfig: { responseMimeType: 'application/json' },
  responseJsonSchema: schema,
});

async function untilDone(client: GeminiClient, name: string): Promise<BatchJobInfo> {
  for (let i = 0; i < 2000; i++) {
    const job = await client.getBatch(name);
    if (!['pending', 'running'].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${name} never finished`);
}

describe("wavebatch's Gemini client against the emulator", () => {
  const sandbox = emulatorSandbox();

  it('uploads JSONL, runs a file batch and an inline batch to success, downloads results, lists jobs', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: 3600,
      turnaroundMs: { min: 30_000, max: 120_000 },
      seed: 5,
    });
    const dir = sandbox.tempDir('client');
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    const pages = ['page-1', 'page-2', 'page-3'];
    writeFileSync(
      join(dir, 'jobs.jsonl'),
      pages.map((page) => toBatchFileLine(page, requestFor(page))).join('\n') + '\n',
    );

    const file = await client.uploadJsonl(join(dir, 'jobs.jsonl'), 'run-1 job-1');
    expect(file).toMatchObject({
      state: 'ACTIVE',
      sizeBytes: readFileSync(join(dir, 'jobs.jsonl')).length,
    });
    expect(await client.getFile(file.name)).toMatchObject({ name: file.name });

    const created = await client.createBatch({
      model: MODEL,
      displayName: 'run-1 job-1',
      source: { fileName: file.name },
    });
    expect(created).toMatchObject({ state: 'pending', displayName: 'run-1 job-1', model: `models/${MODEL}` });
    const done = await untilDone(client, created.name);
    expect(done).toMatchObject({ state: 'succeeded', stats: { requestCount: 3, successfulRequestCount: 3 } });
    expect(done.resultsFileName).toMatch(/^files\//);

    await client.downloadFile(done.resultsFileName ?? '', join(dir, 'results.jsonl'));
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
    const byKey = new Map(
      lines.map((line) => {
        const parsed = JSON.parse(line) as {
          key: string;
          response: { candidates: Array<{ content: { parts: Array<{ text: string }> } }> };
        };
        return [
          parsed.key,
          JSON.parse(parsed.response.candidates[0]?.content.parts[0]?.text ?? '') as {
            title: string;
            year: number;
          },
        ];
      }),
    );
    expect([...byKey.keys()].sort()).toEqual(pages);
    for (const entry of byKey.values()) {
      expect(typeof entry.title).toBe('string');
      expect(entry.year).toBeGreaterThanOrEqual(1800);
      expect(entry.year).toBeLessThanOrEqual(1950);
    }

    const inline = await client.createBatch({
      model: MODEL,
      displayName: 'run-1 job-2',
      source: { requests: ['page-4', 'page-5'].map((page) => toInlinedRequest(page, requestFor(page))) },
    });
    const inlineDone = await untilDone(client, inline.name);
    expect(inlineDone.state).toBe('succeeded');
    expect(inlineDone.inlinedResponses?.map((r) => r.key).sort()).toEqual(['page-4', 'page-5']);

    const listed: string[] = [];
    for await (const job of client.listBatches({ pageSize: 1 })) listed.push(job.displayName ?? '');
    expect(listed).toEqual(['run-1 job-2', 'run-1 job-1']);

    expect(await client.countTokens(MODEL, requestFor('page-9'))).toBeGreaterThan(0);
    const realtime = (await client.generateContent(MODEL, requestFor('page-9'))) as { text?: string };
    expect(JSON.parse(realtime.text ?? '')).toHaveProperty('title');

    expect(emulator.ledger.entries().map((e) => e.mode)).toEqual([
      'batch',
      'batch',
      'batch',
      'batch',
      'batch',
      'realtime',
    ]);
    await client.deleteFile(file.name);
    expect(await client.getFile(file.name)).toBeNull();
    await client.deleteBatch(created.name);
    await expect(client.getBatch(created.name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
