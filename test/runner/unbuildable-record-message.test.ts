import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox } from '../emulator/harness.js';
import { openEmulatedSession } from '../fixtures/session.js';

// A record whose request cannot be built is dead-lettered with a message quoting why: it quoted the
// error's bare message, without the code that names the family of the failure (README, Error codes).
describe('the failure message of a record whose request cannot be built', () => {
  const sandbox = emulatorSandbox();

  it("quotes the error's code and message, for a template that fails to render and for missing media", async () => {
    const root = sandbox.tempDir('unbuildable');
    const records = [
      { id: 'good', topic: 'tides' },
      { id: 'unrenderable', topic: 42 },
      { id: 'no-media', topic: 'waves', video: 'missing.mp4' },
    ];
    writeFileSync(join(root, 'data.jsonl'), records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    mkdirSync(join(root, 'prompts', 'describe'), { recursive: true });
    writeFileSync(
      join(root, 'prompts', 'describe', 'v1.jinja'),
      'Describe {{ record.topic.toUpperCase() }}.\n',
    );
    writeFileSync(
      join(root, 'wavebatch.yaml'),
      [
        'name: unbuildable',
        'source: { type: jsonl, path: data.jsonl, media_field: video }',
        'prompt: { name: describe, version: v1 }',
        'model: { name: gemini-2.5-flash }',
        'execution: { poll_interval: 20, max_retries: 2 }',
      ].join('\n'),
    );
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 60_000, seed: 9 });
    const { session } = await openEmulatedSession(join(root, 'wavebatch.yaml'), emulator);
    const summary = await session.runner.run();
    const dead = await session.store.listFailures({ deadOnly: true });
    await session.close();

    expect(summary.counts).toMatchObject({ done: 1, dead: 2, total: 3 });
    const messages = Object.fromEntries(dead.map((failure) => [failure.recordId, failure.message]));
    expect(messages.unrenderable).toMatch(/^Prompt rendering failed for unrenderable: \[PROMPT_RENDER\] \S/);
    expect(messages['no-media']).toMatch(/^Cannot build the request for no-media: \[INPUT_MEDIA_\w+\] \S/);
    expect(messages['no-media']).toContain('missing.mp4');
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['good']);
  });
});
