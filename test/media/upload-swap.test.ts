import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGeminiClient, type GeminiClient } from '../../src/gemini/index.js';
import { MediaUploader } from '../../src/media/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { emulatorSandbox, sdkFor } from '../emulator/harness.js';
import { writeNoisePng } from './png.js';

// wavebatch opens a media file, checks it is a regular file inside its folder and hashes it; the
// upload must send those bytes. Given the path, the SDK opened it once more, so a link swapped in
// between (to a secret outside the dataset) was what went to Google.
describe('a media file swapped between its checks and its upload', () => {
  const sandbox = emulatorSandbox();

  async function setUp() {
    const emulator = await sandbox.startEmulator({ seed: 5 });
    const dir = sandbox.tempDir('upload-swap');
    const data = join(dir, 'data');
    const image = join(data, 'scan.png');
    mkdirSync(data);
    writeNoisePng(image, 120, 120, 4);
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'GEMINI_API_KEY=AIza-very-secret-0123456789');
    const store = new SqliteStore({ path: join(dir, 'state.db') });
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    /** An uploader whose API runs `beforeUpload` just before the SDK reads what it was given. */
    const uploaderWith = (beforeUpload: () => void) => {
      const api: GeminiClient = {
        ...client,
        uploadFile: (file, mimeType, displayName) => {
          beforeUpload();
          return client.uploadFile(file, mimeType, displayName);
        },
      };
      return new MediaUploader({ api, cache: store, now: () => emulator.now() });
    };
    /** The bytes of every upload the emulator holds. */
    const uploadedBytes = async (): Promise<Buffer[]> => {
      const found: Buffer[] = [];
      for await (const file of await sdkFor(emulator).files.list({ config: { pageSize: 100 } })) {
        const bytes = await emulator.storedFile(file.name ?? '');
        if (bytes) found.push(bytes);
      }
      return found;
    };
    return { dir, data, image, secret, store, uploaderWith, uploadedBytes };
  }

  it('uploads the file it checked, not a link to a secret swapped in after the check', async () => {
    const t = await setUp();
    const original = readFileSync(t.image);
    const link = join(t.data, 'link.tmp');
    symlinkSync(t.secret, link);
    const uploader = t.uploaderWith(() => renameSync(link, t.image));
    await uploader.fileFor({ path: t.image, mimeType: 'image/png', confinedTo: t.data });
    const uploads = await t.uploadedBytes();
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.includes('very-secret')).toBe(false);
    expect(uploads[0]?.equals(original)).toBe(true);
    await t.store.close();
  });

  it('refuses a file written to while it was uploaded (INPUT_MEDIA_CHANGED) and caches no copy', async () => {
    const t = await setUp();
    const sha256 = createHash('sha256').update(readFileSync(t.image)).digest('hex');
    const uploader = t.uploaderWith(() => appendFileSync(t.image, Buffer.alloc(4096, 7)));
    await expect(uploader.fileFor({ path: t.image, mimeType: 'image/png' })).rejects.toMatchObject({
      code: 'INPUT_MEDIA_CHANGED',
      message: expect.stringContaining('changed while it was being uploaded'),
    });
    expect(await t.store.getMediaFile(sha256, 'image/png')).toBeNull();
    await t.store.close();
  });

  it('sends a file larger than one upload chunk (8 MB) whole and in order', async () => {
    const t = await setUp();
    const big = join(t.data, 'big.pdf');
    const bytes = Buffer.alloc(19 * 1024 * 1024 + 123);
    for (let index = 0; index + 4 <= bytes.length; index += 4) bytes.writeUInt32LE(index, index);
    writeFileSync(big, bytes);
    await t.uploaderWith(() => {}).fileFor({ path: big, mimeType: 'application/pdf' });
    const [uploaded] = await t.uploadedBytes();
    expect(uploaded?.length).toBe(bytes.length);
    expect(uploaded?.equals(bytes)).toBe(true);
    await t.store.close();
  });
});
