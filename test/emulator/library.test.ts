import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { emulatorSandbox, sdkFor } from './harness.js';

describe('emulator library surface', () => {
  const sandbox = emulatorSandbox();

  it("answers with a test's responder, falls back to the synthetic model, and runs an emulated clock", async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1000 });
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
    const dir = sandbox.tempDir('storage');
    const emulator = await sandbox.startEmulator({ storageDir: dir });
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
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(join(dir, 'store', 'files'))).toHaveLength(1);
  });

  it('refuses an infinite file lifetime or job expiry, naming the option', async () => {
    await expect(startEmulator({ fileTtlMs: Infinity })).rejects.toMatchObject({
      code: 'INPUT_EMULATOR_OPTION',
      message: expect.stringContaining('fileTtlMs'),
    });
    await expect(startEmulator({ jobExpiryMs: Infinity })).rejects.toMatchObject({
      code: 'INPUT_EMULATOR_OPTION',
      message: expect.stringContaining('jobExpiryMs'),
    });
  });
});
