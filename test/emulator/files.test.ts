import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, sdkFor } from './harness.js';

describe('emulator Files API through the SDK', () => {
  const sandbox = emulatorSandbox();

  it('uploads, gets, lists, downloads and deletes a file', async () => {
    const emulator = await sandbox.startEmulator({ seed: 7 });
    const dir = sandbox.tempDir('files');
    const content =
      Array.from({ length: 50 }, (_, i) => JSON.stringify({ key: `k${i}`, value: 'é'.repeat(i) })).join(
        '\n',
      ) + '\n';
    writeFileSync(join(dir, 'input.jsonl'), content);
    const ai = sdkFor(emulator);

    const uploaded = await ai.files.upload({
      file: join(dir, 'input.jsonl'),
      config: { displayName: 'my input', mimeType: 'jsonl' },
    });
    expect(uploaded.name).toMatch(/^files\/[a-z0-9-]+$/);
    expect(uploaded.displayName).toBe('my input');
    expect(uploaded.mimeType).toBe('jsonl');
    expect(Number(uploaded.sizeBytes)).toBe(Buffer.byteLength(content));
    expect(uploaded.state).toBe('ACTIVE');
    expect(Date.parse(uploaded.expirationTime ?? '') - Date.parse(uploaded.createTime ?? '')).toBe(
      48 * 3600 * 1000,
    );

    const got = await ai.files.get({ name: uploaded.name ?? '' });
    expect(got).toMatchObject({
      name: uploaded.name,
      sizeBytes: uploaded.sizeBytes,
      displayName: 'my input',
    });

    const names: string[] = [uploaded.name ?? ''];
    for (let i = 0; i < 4; i++) {
      writeFileSync(join(dir, `more${i}.jsonl`), `{"n":${i}}\n`);
      names.push(
        (await ai.files.upload({ file: join(dir, `more${i}.jsonl`), config: { mimeType: 'jsonl' } })).name ??
          '',
      );
    }
    const listed: string[] = [];
    const pager = await ai.files.list({ config: { pageSize: 2 } });
    for await (const file of pager) listed.push(file.name ?? '');
    expect(listed.sort()).toEqual([...names].sort());

    await ai.files.download({ file: uploaded.name ?? '', downloadPath: join(dir, 'copy.jsonl') });
    expect(readFileSync(join(dir, 'copy.jsonl'), 'utf8')).toBe(content);

    await ai.files.delete({ name: uploaded.name ?? '' });
    await expect(ai.files.get({ name: uploaded.name ?? '' })).rejects.toMatchObject({ status: 404 });
    await expect(
      ai.files.download({ file: uploaded.name ?? '', downloadPath: join(dir, 'gone') }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('expires files after fileTtlMs of emulated time', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1000, fileTtlMs: 300_000 });
    const dir = sandbox.tempDir('expiry');
    writeFileSync(join(dir, 'a.jsonl'), '{}\n');
    const ai = sdkFor(emulator);
    const file = await ai.files.upload({ file: join(dir, 'a.jsonl'), config: { mimeType: 'jsonl' } });
    expect((await ai.files.get({ name: file.name ?? '' })).name).toBe(file.name);
    await new Promise((resolve) => setTimeout(resolve, 400)); // 400 s emulated
    const error = await ai.files.get({ name: file.name ?? '' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 404 });
    expect(JSON.parse((error as Error).message)).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect((error as Error).message).toContain(file.name);
  });

  it('accepts several upload chunks before finalize and rejects a wrong offset', async () => {
    const emulator = await sandbox.startEmulator();
    const start = await fetch(`${emulator.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': 'k',
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ file: { displayName: 'chunks', mimeType: 'text/plain' } }),
    });
    const uploadUrl = start.headers.get('x-goog-upload-url') ?? '';
    expect(new URL(uploadUrl).host).toBe(new URL(emulator.url).host);
    const send = (command: string, offset: number, body: string) =>
      fetch(uploadUrl, {
        method: 'POST',
        headers: { 'x-goog-upload-command': command, 'x-goog-upload-offset': String(offset) },
        body,
      });
    expect((await send('upload', 0, 'abc')).headers.get('x-goog-upload-status')).toBe('active');
    expect((await send('upload', 3, 'def')).headers.get('x-goog-upload-status')).toBe('active');
    const wrong = await send('upload', 2, 'x');
    expect(wrong.status).toBe(400);
    const final = await send('upload, finalize', 6, 'ghi');
    expect(final.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await final.json()) as { file: { name: string; sizeBytes: string } };
    expect(file.sizeBytes).toBe('9');
    const download = await fetch(`${emulator.url}/v1beta/${file.name}:download?alt=media`, {
      headers: { 'x-goog-api-key': 'k' },
    });
    expect(await download.text()).toBe('abcdefghi');
  });

  it('forgets an interrupted chunk so the client can resend it at the same offset', async () => {
    const emulator = await sandbox.startEmulator();
    const start = await fetch(`${emulator.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': 'k',
        'x-goog-upload-command': 'start',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ file: { mimeType: 'text/plain' } }),
    });
    const uploadUrl = new URL(start.headers.get('x-goog-upload-url') ?? '');
    // Announce 1000 bytes, send 400, then hang up.
    await new Promise<void>((resolve) => {
      const partial = request(uploadUrl, {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': '0', 'content-length': '1000' },
      });
      partial.on('error', () => resolve());
      partial.write('x'.repeat(400), () => setTimeout(() => partial.destroy(), 50));
      partial.on('close', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const resent = await fetch(uploadUrl, {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'y'.repeat(1000),
    });
    expect(resent.status).toBe(200);
    const { file } = (await resent.json()) as { file: { name: string; sizeBytes: string } };
    expect(file.sizeBytes).toBe('1000');
    const download = await fetch(`${emulator.url}/v1beta/${file.name}:download?alt=media`, {
      headers: { 'x-goog-api-key': 'k' },
    });
    expect(await download.text()).toBe('y'.repeat(1000));
  });

  it('keeps an uploaded video PROCESSING for fileProcessingMs, then ACTIVE, or FAILED when undecodable', async () => {
    // 1 real ms = 100 emulated ms: 60 s of processing take ~600 real ms.
    const emulator = await sandbox.startEmulator({ timeScale: 100, fileProcessingMs: 60_000 });
    const dir = sandbox.tempDir('files-processing');
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(500, 7)]);
    writeFileSync(join(dir, 'clip.mp4'), mp4);
    writeFileSync(join(dir, 'broken.mp4'), 'not a video at all');
    writeFileSync(join(dir, 'note.txt'), 'plain text');
    const ai = sdkFor(emulator);
    const video = await ai.files.upload({ file: join(dir, 'clip.mp4'), config: { mimeType: 'video/mp4' } });
    expect((await ai.files.get({ name: video.name ?? '' })).state).toBe('PROCESSING');
    const broken = await ai.files.upload({
      file: join(dir, 'broken.mp4'),
      config: { mimeType: 'video/mp4' },
    });
    const text = await ai.files.upload({ file: join(dir, 'note.txt'), config: { mimeType: 'text/plain' } });
    expect([video.state, broken.state, text.state]).toEqual(['PROCESSING', 'PROCESSING', 'ACTIVE']);
    const createdAt = Date.parse(broken.createTime ?? ''); // the later of the two videos
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, createdAt + 60_000 - emulator.now()) / 100 + 20),
    );
    expect((await ai.files.get({ name: video.name ?? '' })).state).toBe('ACTIVE');
    const failed = await ai.files.get({ name: broken.name ?? '' });
    expect(failed.state).toBe('FAILED');
    expect(failed.error?.message).toMatch(/not a supported video container/);
  });

  it("with fileProcessingTypes 'all' processes every upload; by default nothing is PROCESSING", async () => {
    const all = await sandbox.startEmulator({
      timeScale: 1,
      fileProcessingMs: 3_600_000,
      fileProcessingTypes: 'all',
    });
    const plain = await sandbox.startEmulator();
    const dir = sandbox.tempDir('files-processing-all');
    writeFileSync(join(dir, 'note.txt'), 'plain text');
    writeFileSync(join(dir, 'clip.mp4'), 'not a video at all');
    const uploaded = await sdkFor(all).files.upload({
      file: join(dir, 'note.txt'),
      config: { mimeType: 'text/plain' },
    });
    expect(uploaded.state).toBe('PROCESSING');
    const video = await sdkFor(plain).files.upload({
      file: join(dir, 'clip.mp4'),
      config: { mimeType: 'video/mp4' },
    });
    expect(video.state).toBe('ACTIVE');
  });
});
