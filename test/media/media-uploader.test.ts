import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  buildModelRequest,
  createGeminiClient,
  toBatchFileLine,
  type GeminiClient,
} from '../../src/gemini/index.js';
import { MediaUploader } from '../../src/media/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { emulatorSandbox, sdkFor } from '../emulator/harness.js';
import { writeNoisePng } from './png.js';

const HOUR = 3600_000;

/** Media files the emulator holds now (uploads of the uploader are named wb-media-...). */
async function mediaFiles(emulator: RunningEmulator): Promise<Array<{ name: string; uri: string }>> {
  const found: Array<{ name: string; uri: string }> = [];
  for await (const file of await sdkFor(emulator).files.list({ config: { pageSize: 100 } })) {
    if (file.displayName?.startsWith('wb-media-')) found.push({ name: file.name ?? '', uri: file.uri ?? '' });
  }
  return found;
}

describe('MediaUploader on the emulator', () => {
  const sandbox = emulatorSandbox();

  async function setUp() {
    const emulator = await sandbox.startEmulator({ seed: 3 });
    const dir = sandbox.tempDir('media-uploader');
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    const image = join(dir, 'scan.png');
    writeNoisePng(image, 120, 120, 11);
    let offset = 0;
    const stores: SqliteStore[] = [];
    const openUploader = (api: GeminiClient = client) => {
      const store = new SqliteStore({ path: join(dir, 'state.db') });
      stores.push(store);
      // The uploader's clock runs on emulated time, shifted by what a test adds to `offset`.
      return new MediaUploader({ api, cache: store, now: () => emulator.now() + offset });
    };
    return {
      emulator,
      dir,
      client,
      image,
      openUploader,
      advance: (ms: number) => {
        offset += ms;
      },
      close: async () => {
        for (const store of stores) await store.close();
      },
    };
  }

  it('uploads a file once and reuses the fresh copy, across uploader instances (a restart)', async () => {
    const t = await setUp();
    const first = await t.openUploader().fileFor({ path: t.image, mimeType: 'image/png' });
    const listed = await mediaFiles(t.emulator);
    expect(listed).toEqual([{ name: expect.stringMatching(/^files\//), uri: first.fileUri }]);
    // 120 x 120 px: one image's 258 tokens, read from its header for the estimate.
    expect(first).toEqual({ fileUri: listed[0]?.uri, mimeType: 'image/png', estimatedTokens: 258 });

    const uploader = t.openUploader();
    t.advance(20 * HOUR); // still 28 h left: more than the 24 h margin
    expect(await uploader.fileFor({ path: t.image, mimeType: 'image/png' })).toEqual(first);
    // Same bytes under another path: the cache is by content.
    const copy = join(t.dir, 'copy.png');
    copyFileSync(t.image, copy);
    expect(await uploader.fileFor({ path: copy, mimeType: 'image/png' })).toEqual(first);
    expect(await mediaFiles(t.emulator)).toHaveLength(1);
    await t.close();
  });

  it('re-uploads a copy that expires within the margin; the new copy is then reused', async () => {
    const t = await setUp();
    const uploader = t.openUploader();
    const first = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    t.advance(25 * HOUR); // 23 h left: a 24 h job could outlive it
    const second = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    expect(second.fileUri).not.toBe(first.fileUri);
    expect((await mediaFiles(t.emulator)).map((file) => file.uri).sort()).toEqual(
      [first.fileUri, second.fileUri].sort(),
    );
    expect(await uploader.fileFor({ path: t.image, mimeType: 'image/png' })).toEqual(second);
    expect(await mediaFiles(t.emulator)).toHaveLength(2);
    await t.close();
  });

  it('re-uploads a copy that is gone (deleted remotely), once the remote check is due', async () => {
    const t = await setUp();
    const uploader = t.openUploader();
    const first = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    const [remote] = await mediaFiles(t.emulator);
    await t.client.deleteFile(remote?.name ?? '');
    // A restarted uploader asks the API before reusing, finds nothing, uploads again.
    const replaced = await t.openUploader().fileFor({ path: t.image, mimeType: 'image/png' });
    expect(replaced.fileUri).not.toBe(first.fileUri);
    expect(await mediaFiles(t.emulator)).toEqual([{ name: expect.any(String), uri: replaced.fileUri }]);

    // The long-lived uploader trusts its last check for 10 minutes, then asks again.
    const [current] = await mediaFiles(t.emulator);
    await t.client.deleteFile(current?.name ?? '');
    t.advance(11 * 60_000);
    const again = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    expect(again.fileUri).not.toBe(replaced.fileUri);
    expect(await mediaFiles(t.emulator)).toEqual([{ name: expect.any(String), uri: again.fileUri }]);
    await t.close();
  });

  it('uploads a changed file again, and counts an uploaded PDF by its pages', async () => {
    const t = await setUp();
    const uploader = t.openUploader();
    const first = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    writeNoisePng(t.image, 120, 120, 12);
    const changed = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    expect(changed.fileUri).not.toBe(first.fileUri);
    const pdf = join(t.dir, 'doc.pdf');
    writeFileSync(
      pdf,
      '%PDF-1.4\n1 0 obj <</Type /Page>>\n2 0 obj <</Type /Page>>\n3 0 obj <</Type /Pages>>\n',
    );
    expect(await uploader.fileFor({ path: pdf, mimeType: 'application/pdf' })).toMatchObject({
      mimeType: 'application/pdf',
      estimatedTokens: 2 * 258,
    });
    await t.close();
  });

  it('rebuilds the same request after a restart while the remote copy lives (crash safety)', async () => {
    const t = await setUp();
    const small = join(t.dir, 'small.png');
    writeNoisePng(small, 4, 4, 5);
    const build = async (uploader: MediaUploader) =>
      toBatchFileLine(
        'r1',
        await buildModelRequest({
          promptText: 'Transcribe',
          media: [
            { path: t.image, mimeType: 'image/png' },
            { path: small, mimeType: 'image/png' },
          ],
          uploads: { minBytes: 10_000, fileFor: (media) => uploader.fileFor(media) },
        }),
      );
    const before = await build(t.openUploader());
    const after = await build(t.openUploader());
    expect(after).toBe(before);
    const parts = (
      JSON.parse(before) as { request: { contents: Array<{ parts: Array<Record<string, unknown>> }> } }
    ).request.contents[0]?.parts;
    const [remote] = await mediaFiles(t.emulator);
    expect(parts?.[1]).toEqual({ fileData: { fileUri: remote?.uri, mimeType: 'image/png' } });
    expect(parts?.[2]).toHaveProperty('inlineData.mimeType', 'image/png');
    await t.close();
  });

  it('does not record an upload that failed, and uploads on the next try', async () => {
    const t = await setUp();
    t.emulator.setFaults({ http: [{ kind: 'status_503', match: 'upload', count: 1 }] });
    const uploader = t.openUploader();
    await expect(uploader.fileFor({ path: t.image, mimeType: 'image/png' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    const ok = await uploader.fileFor({ path: t.image, mimeType: 'image/png' });
    expect(await mediaFiles(t.emulator)).toEqual([{ name: expect.any(String), uri: ok.fileUri }]);
    await t.close();
  });
});
