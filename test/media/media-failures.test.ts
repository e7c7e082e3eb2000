import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { openEmulatedSession } from '../fixtures/session.js';

describe('a media file Google cannot process', () => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterEach(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('dead-letters only its record, as an input error naming the file; the rest of the run goes on', async () => {
    root = mkdtempSync(join(tmpdir(), 'wb-media-fail-'));
    // Not a video container: the emulator's processing ends FAILED, as Google's does.
    writeFileSync(join(root, 'clip.mp4'), Buffer.from('this is not a video at all'));
    writeFileSync(
      join(root, 'data.jsonl'),
      `${JSON.stringify({ id: 'text-only', topic: 'tides' })}\n${JSON.stringify({ id: 'clip', topic: 'waves', video: 'clip.mp4' })}\n`,
    );
    mkdirSync(join(root, 'prompts', 'describe'), { recursive: true });
    writeFileSync(join(root, 'prompts', 'describe', 'v1.jinja'), 'Describe {{ record.topic }}.\n');
    writeFileSync(
      join(root, 'wavebatch.yaml'),
      [
        'name: clips',
        'source: { type: jsonl, path: data.jsonl, media_field: video }',
        'prompt: { name: describe, version: v1 }',
        'model: { name: gemini-2.5-flash }',
        'execution: { poll_interval: 20, media_upload_bytes: 0, max_retries: 2 }',
      ].join('\n'),
    );
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 60_000,
      seed: 9,
      fileProcessingMs: 60_000,
    });
    const { session } = await openEmulatedSession(join(root, 'wavebatch.yaml'), emulator);
    const summary = await session.runner.run();
    const dead = await session.store.listFailures({ deadOnly: true });
    await session.close();

    expect(summary.counts).toMatchObject({ done: 1, dead: 1, total: 2 });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ recordId: 'clip', cause: 'input_error' });
    expect(dead[0]?.message).toContain('clip.mp4');
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['text-only']);
  });
});
