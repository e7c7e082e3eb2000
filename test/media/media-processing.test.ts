import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { createGeminiClient } from '../../src/gemini/index.js';
import { MediaUploader, MediaUploadError } from '../../src/media/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { emulatorSandbox, sdkFor } from '../emulator/harness.js';

/** The start of an MP4 (ISO BMFF `ftyp` box), then filler: enough for the emulator to accept it as a video. */
function fakeMp4(seed: number): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(2000, seed)]);
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('MediaUploader and files still PROCESSING', () => {
  const sandbox = emulatorSandbox();
  const TIME_SCALE = 100;

  async function setUp(options: EmulatorOptions, processingTimeoutMs?: number) {
    const emulator = await sandbox.startEmulator({ seed: 5, timeScale: TIME_SCALE, ...options });
    const dir = sandbox.tempDir('media-processing');
    const store = new SqliteStore({ path: join(dir, 'state.db') });
    const sleeps: number[] = [];
    const uploader = new MediaUploader({
      api: createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url }),
      cache: store,
      // Both on emulated time: a pause of `ms` emulated ms lasts ms / TIME_SCALE real ms.
      now: () => emulator.now(),
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((resolve) => setTimeout(resolve, ms / TIME_SCALE));
      },
      ...(processingTimeoutMs !== undefined ? { processingTimeoutMs } : {}),
    });
    return { emulator, dir, store, uploader, sleeps };
  }

  it('hands out a video only once it is ACTIVE, polling with backoff on the injected clock', async () => {
    const t = await setUp({ fileProcessingMs: 20_000 });
    const video = join(t.dir, 'clip.mp4');
    writeFileSync(video, fakeMp4(1));
    const reference = await t.uploader.fileFor({ path: video, mimeType: 'video/mp4' });
    const name = /files\/[^/?#:]+/.exec(reference.fileUri)?.[0] ?? '';
    expect((await sdkFor(t.emulator).files.get({ name })).state).toBe('ACTIVE');
    // 1 s, 2 s, 4 s, 8 s, ... until the 20 s of processing are over.
    expect(t.sleeps.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(await t.store.getMediaFile(sha256Of(video), 'video/mp4')).toMatchObject({ remoteName: name });
    await t.store.close();
  });

  it('fails with a MediaUploadError naming the file when processing FAILED, and caches nothing', async () => {
    const t = await setUp({ fileProcessingMs: 5_000 });
    const broken = join(t.dir, 'broken.mp4');
    writeFileSync(broken, 'not a video at all');
    const failure = await t.uploader
      .fileFor({ path: broken, mimeType: 'video/mp4' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MediaUploadError);
    expect(failure).toMatchObject({ code: 'MEDIA_PROCESSING_FAILED', path: broken });
    expect((failure as Error).message).toContain(broken);
    expect((failure as Error).message).toMatch(/files\/\S+, state FAILED/);
    expect(await t.store.getMediaFile(sha256Of(broken), 'video/mp4')).toBeNull();
    await t.store.close();
  });

  it('gives up on a file PROCESSING longer than processingTimeoutMs', async () => {
    const t = await setUp({ fileProcessingMs: 3_600_000 }, 20_000);
    const video = join(t.dir, 'long.mp4');
    writeFileSync(video, fakeMp4(2));
    await expect(t.uploader.fileFor({ path: video, mimeType: 'video/mp4' })).rejects.toMatchObject({
      name: 'MediaUploadError',
      code: 'MEDIA_PROCESSING_TIMEOUT',
      message: expect.stringContaining(video),
    });
    await t.store.close();
  });
});
