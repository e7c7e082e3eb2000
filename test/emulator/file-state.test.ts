import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, pollUntilDone, refusalOf, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';

/** The start of an MP4 (ISO BMFF `ftyp` box), then filler: the emulator decodes it as a video. */
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(500, 7)]);

/** In a batch row the same refusal is a google.rpc.Status with gRPC code 9 (FAILED_PRECONDITION). */
function notActiveRow(name: string | undefined): Record<string, unknown> {
  const id = (name ?? '').slice('files/'.length);
  return { code: 9, message: `The File ${id} is not in an ACTIVE state and usage is not allowed.` };
}

/** Google's refusal of a file that is not ACTIVE, as its 400 body carries it. */
function notActive(name: string | undefined): Record<string, unknown> {
  const id = (name ?? '').slice('files/'.length);
  return {
    error: {
      code: 400,
      status: 'FAILED_PRECONDITION',
      message: `The File ${id} is not in an ACTIVE state and usage is not allowed.`,
    },
  };
}

function videoRequest(uri: string | undefined) {
  return [
    {
      role: 'user',
      parts: [
        { text: 'What happens in this clip?' },
        { fileData: { fileUri: uri ?? '', mimeType: 'video/mp4' } },
      ],
    },
  ];
}

async function uploadVideo(ai: GoogleGenAI, path: string, bytes: Buffer | string) {
  writeFileSync(path, bytes);
  return ai.files.upload({ file: path, config: { mimeType: 'video/mp4' } });
}

describe('emulator: requests using a file that is not ACTIVE', () => {
  const sandbox = emulatorSandbox();

  it('refuses generateContent and countTokens with 400 FAILED_PRECONDITION while PROCESSING and once FAILED, without billing', async () => {
    // 1 real ms = 1000 emulated ms: 10 min of processing take ~600 real ms.
    const emulator = await sandbox.startEmulator({ timeScale: 1000, fileProcessingMs: 600_000 });
    const dir = sandbox.tempDir('file-state-realtime');
    const ai = sdkFor(emulator);
    const clip = await uploadVideo(ai, join(dir, 'clip.mp4'), MP4);
    const broken = await uploadVideo(ai, join(dir, 'broken.mp4'), 'not a video at all');

    for (const call of [
      () => ai.models.generateContent({ model: MODEL, contents: videoRequest(clip.uri) }),
      () => ai.models.countTokens({ model: MODEL, contents: videoRequest(clip.uri) }),
    ]) {
      expect(await refusalOf(call())).toEqual({ status: 400, body: notActive(clip.name) });
    }

    const processedAt = Date.parse(broken.createTime ?? '') + 600_000;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, processedAt - emulator.now()) / 1000 + 20),
    );
    expect((await ai.files.get({ name: broken.name ?? '' })).state).toBe('FAILED');
    for (const call of [
      () => ai.models.generateContent({ model: MODEL, contents: videoRequest(broken.uri) }),
      () => ai.models.countTokens({ model: MODEL, contents: videoRequest(broken.uri) }),
    ]) {
      expect(await refusalOf(call())).toEqual({ status: 400, body: notActive(broken.name) });
    }
    expect(emulator.ledger.entries()).toHaveLength(0);

    // ACTIVE now: the same request is answered and billed.
    const answer = await ai.models.generateContent({ model: MODEL, contents: videoRequest(clip.uri) });
    expect(answer.text).toMatch(/synthetic answer/);
    expect(emulator.ledger.entries()).toHaveLength(1);

    // A deleted file is still Google's 403, not the state error.
    await ai.files.delete({ name: clip.name ?? '' });
    const gone = await refusalOf(
      ai.models.generateContent({ model: MODEL, contents: videoRequest(clip.uri) }),
    );
    expect(gone).toMatchObject({ status: 403, body: { error: { status: 'PERMISSION_DENIED' } } });
  });

  it('answers a batch request using a FAILED video with an error line, judging the state at the job end', async () => {
    // Processing takes 5 min, the job 30 min: both videos are done processing when the job runs,
    // one ACTIVE, one FAILED. 1 real ms = 6000 emulated ms.
    const emulator = await sandbox.startEmulator({
      timeScale: 6000,
      turnaroundMs: 1_800_000,
      fileProcessingMs: 300_000,
      seed: 2,
    });
    const dir = sandbox.tempDir('file-state-batch');
    const ai = sdkFor(emulator);
    const clip = await uploadVideo(ai, join(dir, 'clip.mp4'), MP4);
    const broken = await uploadVideo(ai, join(dir, 'broken.mp4'), 'not a video at all');
    const lines = [
      { key: 'clip', request: { contents: videoRequest(clip.uri) } },
      { key: 'broken', request: { contents: videoRequest(broken.uri) } },
      { key: 'text', request: { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] } },
    ];
    writeFileSync(join(dir, 'in.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const input = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'jsonl' } });

    const created = await ai.batches.create({ model: MODEL, src: input.name ?? '' });
    const done = await pollUntilDone(emulator, created.name ?? '');
    const metadata = done.metadata as { batchStats: unknown; output: { responsesFile: string } };
    expect(metadata.batchStats).toEqual({
      requestCount: '3',
      successfulRequestCount: '2',
      failedRequestCount: '1',
    });
    await ai.files.download({ file: metadata.output.responsesFile, downloadPath: join(dir, 'out.jsonl') });
    const results = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: unknown });
    const byKey = new Map(results.map((result) => [result.key, result]));
    expect(byKey.get('broken')).toEqual({ key: 'broken', error: notActiveRow(broken.name) });
    expect(byKey.get('clip')?.response).toBeTruthy();
    expect(byKey.get('text')?.response).toBeTruthy();
    expect(
      emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['clip', 'text']);
  });

  it('answers an inline batch request using a file still PROCESSING at the job end with an error', async () => {
    // Processing takes a day, the job a minute. 1 real ms = 600 emulated ms.
    const emulator = await sandbox.startEmulator({
      timeScale: 600,
      turnaroundMs: 60_000,
      fileProcessingMs: 86_400_000,
      fileProcessingTypes: 'all',
    });
    const dir = sandbox.tempDir('file-state-inline');
    writeFileSync(join(dir, 'notes.txt'), 'meeting notes');
    const ai = sdkFor(emulator);
    const notes = await ai.files.upload({ file: join(dir, 'notes.txt'), config: { mimeType: 'text/plain' } });
    const parts = [
      { text: 'Summarise.' },
      { fileData: { fileUri: notes.uri ?? '', mimeType: 'text/plain' } },
    ];
    const src = [
      { contents: [{ role: 'user', parts }], metadata: { key: 'notes' } },
      { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }], metadata: { key: 'hello' } },
    ];
    const created = await ai.batches.create({ model: MODEL, src });
    await pollUntilDone(emulator, created.name ?? '');

    const job = await ai.batches.get({ name: created.name ?? '' });
    const responses = job.dest?.inlinedResponses ?? [];
    const notesAnswer = responses.find((item) => item.metadata?.key === 'notes');
    expect(notesAnswer?.response).toBeUndefined();
    expect(notesAnswer?.error).toEqual(notActiveRow(notes.name));
    expect(responses.find((item) => item.metadata?.key === 'hello')?.response).toBeTruthy();
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['hello']);
  });
});
