import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { sdkFor, tempDir } from './harness.js';

describe('emulator library surface', () => {
  let emulator: RunningEmulator | undefined;
  const dirs: Array<{ remove(): void }> = [];
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it("answers with a test's responder, falls back to the synthetic model, and runs an emulated clock", async () => {
    emulator = await startEmulator({ timeScale: 1000 });
    const ai = sdkFor(emulator);
    emulator.setResponder((call) =>
      call.request.contents && JSON.stringify(call.request.contents).includes('ping')
        ? { text: 'pong' }
        : undefined,
    );
    expect((await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'ping' })).text).toBe(
      'pong',
    );
    expect(
      (await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'other' })).text,
    ).toContain('synthetic answer');
    emulator.setResponder(undefined);
    expect((await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'ping' })).text).toContain(
      'synthetic answer',
    );
    expect(emulator.ledger.entries()).toHaveLength(3);
    emulator.ledger.clear();
    expect(emulator.ledger.entries()).toHaveLength(0);

    const before = emulator.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(emulator.now() - before).toBeGreaterThanOrEqual(40_000);
  });

  it('keeps files in a given storageDir and leaves it in place on close', async () => {
    const dir = tempDir('storage');
    dirs.push(dir);
    emulator = await startEmulator({ storageDir: dir.path });
    const response = await fetch(`${emulator.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k', 'x-goog-upload-command': 'start' },
      body: '{}',
    });
    await fetch(response.headers.get('x-goog-upload-url') ?? '', {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize' },
      body: 'hello',
    });
    await emulator.close();
    emulator = undefined;
    expect(existsSync(dir.path)).toBe(true);
    expect(readdirSync(join(dir.path, 'store', 'files'))).toHaveLength(1);
  });
});
