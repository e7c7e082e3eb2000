import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobState } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, inputLine, pollUntilDone, refusalOf, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';
/** The input token limit of gemini-2.5-pro, -flash and -flash-lite (ai.google.dev model pages). */
const LIMIT = 1_048_576;
/** A 5 MB record: 1,250,000 tokens at the emulator's 4 characters a token. */
const HUGE = 'word '.repeat(1e6);

/** Google's 400 for a prompt over the limit, in its words (gemini-cli#4231, #6678). */
const tooLong = (count: number) => ({
  error: {
    code: 400,
    status: 'INVALID_ARGUMENT',
    message: `The input token count (${count}) exceeds the maximum number of tokens allowed (${LIMIT}).`,
  },
});

// Google refuses a prompt longer than the model takes; the emulator billed it. The count is the
// one the emulator bills with (countTokens reports it), so a prompt at the limit passes, one token
// more does not.
describe("the emulator enforces each model's input token limit", () => {
  const sandbox = emulatorSandbox();

  it('generateContent: 400 INVALID_ARGUMENT over the limit, unbilled; at the limit it is answered', async () => {
    // A prompt at the limit is more than 2.5 Flash's Tier 1 TPM (1M): raised here.
    const emulator = await sandbox.startEmulator({ quotas: { tpm: 4_000_000 } });
    const ai = sdkFor(emulator);
    const counted = (await ai.models.countTokens({ model: MODEL, contents: HUGE })).totalTokens ?? 0;
    expect(counted).toBeGreaterThan(LIMIT);
    for (const model of ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite']) {
      expect(await refusalOf(ai.models.generateContent({ model, contents: HUGE }))).toEqual({
        status: 400,
        body: tooLong(counted),
      });
    }
    expect(emulator.ledger.entries()).toEqual([]);

    const atLimit = 'x'.repeat(LIMIT * 4);
    expect((await ai.models.countTokens({ model: MODEL, contents: atLimit })).totalTokens).toBe(LIMIT);
    const answered = await ai.models.generateContent({ model: MODEL, contents: atLimit });
    expect(answered.usageMetadata?.promptTokenCount).toBe(LIMIT);
    expect(await refusalOf(ai.models.generateContent({ model: MODEL, contents: `${atLimit}yyyy` }))).toEqual({
      status: 400,
      body: tooLong(LIMIT + 1),
    });
    expect(emulator.ledger.entries().map((entry) => entry.inputTokens)).toEqual([LIMIT]);
  });

  it("inline batch: that request's inline error (gRPC 3), the job SUCCEEDED and the rest answered", async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1_000_000, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const counted = (await ai.models.countTokens({ model: MODEL, contents: HUGE })).totalTokens ?? 0;
    const job = await ai.batches.create({
      model: MODEL,
      src: [
        { contents: 'a short page', metadata: { key: 'short' } },
        { contents: HUGE, metadata: { key: 'huge' } },
      ],
    });
    await pollUntilDone(emulator, job.name ?? '');
    const done = await ai.batches.get({ name: job.name ?? '' });
    expect(done.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const byKey = new Map(
      (done.dest?.inlinedResponses ?? []).map((item) => [String(item.metadata?.key), item]),
    );
    expect(byKey.get('huge')?.error).toEqual({ code: 3, message: tooLong(counted).error.message });
    expect(byKey.get('huge')?.response).toBeUndefined();
    expect(byKey.get('short')?.response?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['short']);
  });

  it("file batch: that request's error line, the job SUCCEEDED and the rest answered", async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1_000_000, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const counted = (await ai.models.countTokens({ model: MODEL, contents: HUGE })).totalTokens ?? 0;
    const dir = sandbox.tempDir('input-limit');
    writeFileSync(
      join(dir, 'in.jsonl'),
      [inputLine('short', 'a short page'), inputLine('huge', HUGE)].join('\n') + '\n',
    );
    const input = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'text/plain' } });
    const job = await ai.batches.create({ model: MODEL, src: input.name ?? '' });
    await pollUntilDone(emulator, job.name ?? '');
    const done = await ai.batches.get({ name: job.name ?? '' });
    expect(done.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    await ai.files.download({ file: done.dest?.fileName ?? '', downloadPath: join(dir, 'out.jsonl') });
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: unknown });
    expect(lines.find((line) => line.key === 'huge')).toEqual({
      key: 'huge',
      error: { code: 3, message: tooLong(counted).error.message },
    });
    expect(lines.find((line) => line.key === 'short')?.response).toBeTruthy();
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['short']);
  });
});
