import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, inputLine, pollUntilDone, sdkFor } from './harness.js';
import { movBytes } from '../media/timed-media.js';

/** The sha256Hash a file's JSON carries for these bytes. */
function sha256HashOf(content: string): string {
  return Buffer.from(createHash('sha256').update(content).digest('hex')).toString('base64');
}

/** Google's refusal of a file that does not exist for the caller (never uploaded, deleted, expired). */
function goneBody(name: string): unknown {
  return {
    error: {
      code: 403,
      status: 'PERMISSION_DENIED',
      message: `You do not have permission to access the File ${name.slice('files/'.length)} or it may not exist.`,
    },
  };
}

describe('emulator Files API through the SDK', () => {
  const sandbox = emulatorSandbox();

  it('uploads, gets, lists and deletes a file; an upload cannot be downloaded, a deleted file is 403', async () => {
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
      source: 'UPLOADED',
      sha256Hash: sha256HashOf(content),
    });
    // Only generated files are downloadable, and only they carry a downloadUri.
    expect(got.downloadUri).toBeUndefined();

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

    const refused = await ai.files
      .download({ file: uploaded.name ?? '', downloadPath: join(dir, 'copy.jsonl') })
      .catch((caught: unknown) => caught as Error & { status?: number });
    expect(refused).toMatchObject({ status: 400 });
    expect(JSON.parse((refused as Error).message)).toMatchObject({
      error: {
        status: 'INVALID_ARGUMENT',
        message: expect.stringContaining('Only generated files') as unknown,
      },
    });

    await ai.files.delete({ name: uploaded.name ?? '' });
    const gone = (await ai.files
      .get({ name: uploaded.name ?? '' })
      .catch((caught: unknown) => caught)) as Error;
    expect(gone).toMatchObject({ status: 403 });
    expect(JSON.parse(gone.message)).toEqual(goneBody(uploaded.name ?? ''));
    await expect(ai.files.delete({ name: uploaded.name ?? '' })).rejects.toMatchObject({ status: 403 });
    await expect(
      ai.files.download({ file: uploaded.name ?? '', downloadPath: join(dir, 'gone') }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('names an upload as asked (config.name), refusing a malformed name with 400 and a taken one with 409', async () => {
    const emulator = await sandbox.startEmulator();
    const dir = sandbox.tempDir('named');
    writeFileSync(join(dir, 'scan.txt'), 'page one');
    const ai = sdkFor(emulator);
    const upload = (name: string) =>
      ai.files.upload({ file: join(dir, 'scan.txt'), config: { name, mimeType: 'text/plain' } });

    const named = await upload('scan-0001');
    expect(named).toMatchObject({ name: 'files/scan-0001', uri: `${emulator.url}/v1beta/files/scan-0001` });
    expect(await ai.files.get({ name: 'files/scan-0001' })).toMatchObject({ sizeBytes: '8' });
    expect((await emulator.storedFile('files/scan-0001'))?.toString()).toBe('page one');

    const refusal = async (call: Promise<unknown>) => {
      const error = (await call.then(
        () => new Error('expected the upload to be refused'),
        (caught: unknown) => caught,
      )) as Error & { status?: number };
      return { status: error.status, body: JSON.parse(error.message) as { error: { status: string } } };
    };
    const taken = await refusal(upload('scan-0001'));
    expect(taken).toEqual({
      status: 409,
      body: {
        error: { code: 409, status: 'ALREADY_EXISTS', message: 'File files/scan-0001 already exists.' },
      },
    });
    for (const bad of ['Scan_1', '-scan', 'scan-', 'x'.repeat(41)]) {
      const malformed = await refusal(upload(bad));
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.status).toBe('INVALID_ARGUMENT');
    }
    expect(await upload('x'.repeat(40))).toMatchObject({ name: `files/${'x'.repeat(40)}` });
    // Deleted, the name is free again.
    await ai.files.delete({ name: 'files/scan-0001' });
    expect(await upload('scan-0001')).toMatchObject({ name: 'files/scan-0001' });
  });

  it('downloads a generated results file through the SDK, on v1 and v1alpha, and on the REST /download/ path', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 60_000 });
    const dir = sandbox.tempDir('files-download');
    writeFileSync(join(dir, 'in.jsonl'), `${inputLine('a', 'first')}\n${inputLine('b', 'second')}\n`);
    const ai = sdkFor(emulator);
    const input = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'text/plain' } });
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input.name ?? '' });
    const done = (await pollUntilDone(emulator, job.name ?? '')) as {
      metadata: { output: { responsesFile: string } };
    };
    const results = done.metadata.output.responsesFile;
    expect(results).toMatch(/^files\/batch-[a-z0-9]+$/);

    const meta = await ai.files.get({ name: results });
    expect(meta).toMatchObject({
      source: 'GENERATED',
      downloadUri: expect.stringContaining('/download/') as unknown,
    });
    await ai.files.download({ file: results, downloadPath: join(dir, 'out.jsonl') });
    const bytes = readFileSync(join(dir, 'out.jsonl'), 'utf8');
    expect(
      bytes
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key)
        .sort(),
    ).toEqual(['a', 'b']);
    for (const version of ['v1', 'v1alpha']) {
      const viaVersion = new GoogleGenAI({
        apiKey: 'k',
        apiVersion: version,
        httpOptions: { baseUrl: emulator.url },
      });
      await viaVersion.files.download({ file: results, downloadPath: join(dir, `${version}.jsonl`) });
      expect(readFileSync(join(dir, `${version}.jsonl`), 'utf8')).toBe(bytes);
    }
    const rest = await fetch(`${emulator.url}/download/v1beta/${results}:download?alt=media`, {
      headers: { 'x-goog-api-key': 'k' },
    });
    expect(rest.status).toBe(200);
    expect(await rest.text()).toBe(bytes);
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
    expect(error).toMatchObject({ status: 403 });
    expect(JSON.parse((error as Error).message)).toEqual(goneBody(file.name ?? ''));
  });

  // The REST docs' curl starts an upload with `{"file": {"display_name": …}}`: Google's JSON parser
  // takes snake_case as camelCase; the emulator dropped the display name (and a snake mime_type).
  it('reads the upload start body in snake_case (display_name, mime_type) as the REST docs send it', async () => {
    const emulator = await sandbox.startEmulator();
    const headers = { 'x-goog-api-key': 'k', 'content-type': 'application/json' };
    const start = await fetch(`${emulator.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        ...headers,
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': '5',
      },
      body: JSON.stringify({ file: { display_name: 'curl upload', mime_type: 'text/plain' } }),
    });
    const uploadUrl = start.headers.get('x-goog-upload-url') ?? '';
    const done = await fetch(uploadUrl, {
      method: 'POST',
      headers: { ...headers, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'hello',
    });
    const { file } = (await done.json()) as { file: { name: string } };
    expect(await sdkFor(emulator).files.get({ name: file.name })).toMatchObject({
      displayName: 'curl upload',
      mimeType: 'text/plain',
      sizeBytes: '5',
    });
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
    const { file } = (await final.json()) as { file: { sizeBytes: string; sha256Hash: string } };
    expect(file.sizeBytes).toBe('9');
    expect(file.sha256Hash).toBe(sha256HashOf('abcdefghi'));
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
    const { file } = (await resent.json()) as { file: { sizeBytes: string; sha256Hash: string } };
    expect(file.sizeBytes).toBe('1000');
    expect(file.sha256Hash).toBe(sha256HashOf('y'.repeat(1000)));
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

  // Gemini takes MOV and WMV video; a MOV without an ftyp box and any WMV ended FAILED ("not a
  // supported video container") once processing was on.
  it('processes a QuickTime MOV without ftyp and a WMV (ASF) into ACTIVE, as MP4 is', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    const emulator = await sandbox.startEmulator({ realNow: () => now, fileProcessingMs: 60_000 });
    const dir = sandbox.tempDir('files-containers');
    const asfGuid = [
      0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0, 0xaa, 0, 0x62, 0xce, 0x6c,
    ];
    writeFileSync(join(dir, 'camera.mov'), movBytes(3));
    writeFileSync(join(dir, 'old.wmv'), Buffer.concat([Buffer.from(asfGuid), Buffer.alloc(500, 3)]));
    const ai = sdkFor(emulator);
    const mov = await ai.files.upload({
      file: join(dir, 'camera.mov'),
      config: { mimeType: 'video/quicktime' },
    });
    const wmv = await ai.files.upload({ file: join(dir, 'old.wmv'), config: { mimeType: 'video/wmv' } });
    expect([mov.state, wmv.state]).toEqual(['PROCESSING', 'PROCESSING']);
    now += 60_001;
    const states = [
      await ai.files.get({ name: mov.name ?? '' }),
      await ai.files.get({ name: wmv.name ?? '' }),
    ];
    expect(states.map((file) => [file.state, file.error])).toEqual([
      ['ACTIVE', undefined],
      ['ACTIVE', undefined],
    ]);
  });

  // Google keeps files of at most 2 GB each (DOCS files); the emulator took any size up to the project's 20 GB.
  it('refuses an upload declared over 2 GB with 400 before any byte moves, and takes exactly 2 GiB', async () => {
    const emulator = await sandbox.startEmulator();
    // The start request as the SDK sends it (files.upload declares the size it is about to send).
    const start = async (bytes: number) => {
      const response = await fetch(`${emulator.url}/upload/v1beta/files`, {
        method: 'POST',
        headers: {
          'x-goog-api-key': 'k',
          'content-type': 'application/json',
          'x-goog-upload-protocol': 'resumable',
          'x-goog-upload-command': 'start',
          'x-goog-upload-header-content-length': String(bytes),
          'x-goog-upload-header-content-type': 'video/mp4',
        },
        body: JSON.stringify({ file: { mimeType: 'video/mp4', sizeBytes: String(bytes) } }),
      });
      const text = await response.text();
      return { status: response.status, url: response.headers.get('x-goog-upload-url'), text };
    };
    const over = await start(2 * 1024 ** 3 + 1);
    expect(over.status).toBe(400);
    expect(over.url).toBeNull();
    expect(JSON.parse(over.text)).toEqual({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: expect.stringContaining('at most 2147483648 bytes (2 GB) per file') as unknown,
      },
    });
    const atLimit = await start(2 * 1024 ** 3);
    expect([atLimit.status, atLimit.url]).toEqual([200, expect.stringContaining('upload_id=')]);
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
