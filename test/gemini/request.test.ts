import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildModelRequest,
  estimateTokens,
  estimateTokenShares,
  MAX_MEDIA_PART_BYTES,
  MediaInputError,
  toBatchFileLine,
  toInlinedRequest,
  toWireRequest,
  type MediaUploads,
} from '../../src/gemini/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-request-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buildModelRequest', () => {
  it('puts the prompt first, inlines text media as text and images as base64', async () => {
    await writeFile(join(dir, 'note.txt'), 'a note');
    await writeFile(join(dir, 'page.png'), Buffer.from([1, 2, 3]));
    const request = await buildModelRequest({
      promptText: 'Describe',
      systemText: 'Be brief',
      media: [
        { path: join(dir, 'note.txt'), mimeType: 'text/plain' },
        { path: join(dir, 'page.png'), mimeType: 'image/png' },
      ],
      generationConfig: { temperature: 0.2, max_output_tokens: 50, thinking_config: { thinking_budget: 0 } },
    });
    expect(request.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Describe' },
          { text: 'a note' },
          { inlineData: { mimeType: 'image/png', data: 'AQID' } },
        ],
      },
    ]);
    expect(request.systemInstruction).toBe('Be brief');
    expect(request.generationConfig).toEqual({
      temperature: 0.2,
      maxOutputTokens: 50,
      thinkingConfig: { thinkingBudget: 0 },
    });
  });

  it('asks for JSON when a schema is given, without touching the schema property names', async () => {
    const schema = { type: 'object', properties: { snake_name: { type: 'string' } } };
    const request = await buildModelRequest({ promptText: 'x', responseJsonSchema: schema });
    expect(request.generationConfig).toEqual({ responseMimeType: 'application/json' });
    expect(request.responseJsonSchema).toBe(schema);
  });

  it('names the file that is too large, missing, or of an unsupported type', async () => {
    const big = join(dir, 'big.png');
    await writeFile(big, Buffer.alloc(MAX_MEDIA_PART_BYTES + 1));
    await expect(
      buildModelRequest({ promptText: 'x', media: [{ path: big, mimeType: 'image/png' }] }),
    ).rejects.toMatchObject({
      code: 'INPUT_MEDIA_TOO_LARGE',
      path: big,
    });
    const missing = join(dir, 'nope.png');
    const error = await buildModelRequest({
      promptText: 'x',
      media: [{ path: missing, mimeType: 'image/png' }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaInputError);
    expect((error as MediaInputError).code).toBe('INPUT_MEDIA_MISSING');
    expect((error as Error).message).toContain(missing);
    await writeFile(join(dir, 'a.zip'), 'zip');
    await expect(
      buildModelRequest({
        promptText: 'x',
        media: [{ path: join(dir, 'a.zip'), mimeType: 'application/zip' }],
      }),
    ).rejects.toMatchObject({ code: 'INPUT_MEDIA_TYPE' });
  });

  it('refuses a text page that is not UTF-8, naming the file and the byte, instead of replacing it', async () => {
    const page = join(dir, 'page_1.txt');
    await writeFile(page, Buffer.from('Caf\u00e9 au lait', 'latin1'));
    const error = await buildModelRequest({
      promptText: 'x',
      media: [{ path: page, mimeType: 'text/plain' }],
    }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'INPUT_MEDIA_ENCODING', path: page });
    expect((error as Error).message).toContain(`${page} is not valid UTF-8 (byte 3)`);
    await writeFile(page, 'Caf\u00e9 au lait');
    const request = await buildModelRequest({
      promptText: 'x',
      media: [{ path: page, mimeType: 'text/plain' }],
    });
    expect(request.contents[0]?.parts?.[1]).toEqual({ text: 'Caf\u00e9 au lait' });
  });
});

describe('buildModelRequest with uploads', () => {
  /** Records what the hook was asked to upload; answers with a fixed reference. */
  function recordingUploads(minBytes: number, estimatedTokens?: number) {
    const asked: Array<{ path: string; size: number }> = [];
    const uploads: MediaUploads = {
      minBytes,
      fileFor: async (media, { size }) => {
        asked.push({ path: media.path, size });
        return {
          fileUri: `https://files.test/v1beta/files/${asked.length}`,
          mimeType: media.mimeType,
          ...(estimatedTokens ? { estimatedTokens } : {}),
        };
      },
    };
    return { asked, uploads };
  }

  it('uploads binaries at or above the threshold, inlines smaller ones, keeps text as text', async () => {
    await writeFile(join(dir, 'big.png'), Buffer.alloc(100));
    await writeFile(join(dir, 'edge.png'), Buffer.alloc(50));
    await writeFile(join(dir, 'small.png'), Buffer.alloc(49));
    await writeFile(join(dir, 'long.txt'), 'x'.repeat(200));
    const { asked, uploads } = recordingUploads(50);
    const request = await buildModelRequest({
      promptText: 'p',
      media: ['big.png', 'edge.png', 'small.png']
        .map((name) => ({ path: join(dir, name), mimeType: 'image/png' }))
        .concat([{ path: join(dir, 'long.txt'), mimeType: 'text/plain' }]),
      uploads,
    });
    expect(asked).toEqual([
      { path: join(dir, 'big.png'), size: 100 },
      { path: join(dir, 'edge.png'), size: 50 },
    ]);
    expect(request.contents[0]?.parts).toEqual([
      { text: 'p' },
      { fileData: { fileUri: 'https://files.test/v1beta/files/1', mimeType: 'image/png' } },
      { fileData: { fileUri: 'https://files.test/v1beta/files/2', mimeType: 'image/png' } },
      { inlineData: { mimeType: 'image/png', data: Buffer.alloc(49).toString('base64') } },
      { text: 'x'.repeat(200) },
    ]);
    // Uploaded images count as images: 2 x 258 + the inline one + text.
    expect(estimateTokens(request)).toBe(3 * 258 + Math.ceil(201 / 4));
    expect(JSON.parse(toBatchFileLine('k', request))).not.toHaveProperty('request.fileTokens');
  });

  it("estimates an uploaded file by what the hook knows (a PDF's pages)", async () => {
    await writeFile(join(dir, 'doc.pdf'), Buffer.alloc(10));
    const { uploads } = recordingUploads(1, 5 * 258);
    const request = await buildModelRequest({
      promptText: 'abcd',
      media: [{ path: join(dir, 'doc.pdf'), mimeType: 'application/pdf' }],
      uploads,
    });
    expect(estimateTokens(request)).toBe(1 + 5 * 258);
    // Without a hint: an audio file by its size at 128 kbit/s (16,000 bytes, 32 tokens, a second).
    await writeFile(join(dir, 'talk.mp3'), Buffer.alloc(50_000));
    const audio = await buildModelRequest({
      promptText: 'abcd',
      media: [{ path: join(dir, 'talk.mp3'), mimeType: 'audio/mpeg' }],
      uploads: recordingUploads(1).uploads,
    });
    expect(estimateTokens(audio)).toBe(1 + 100); // 3.125 s
    // Those 100 are audio, billed at the audio rate; the PDF's pages are not.
    expect(estimateTokenShares(audio)).toEqual({ tokens: 101, audioTokens: 100 });
    expect(estimateTokenShares(request)).toEqual({ tokens: 1 + 5 * 258, audioTokens: 0 });
    expect(JSON.parse(toBatchFileLine('k', audio))).not.toHaveProperty('request.fileAudioTokens');
  });

  it('uploads media above the inline cap whatever the threshold; without uploads it says how to fix it', async () => {
    const big = join(dir, 'huge.png');
    await writeFile(big, Buffer.alloc(MAX_MEDIA_PART_BYTES + 1));
    const { asked, uploads } = recordingUploads(MAX_MEDIA_PART_BYTES * 2);
    await buildModelRequest({ promptText: 'x', media: [{ path: big, mimeType: 'image/png' }], uploads });
    expect(asked).toHaveLength(1);
    await expect(
      buildModelRequest({ promptText: 'x', media: [{ path: big, mimeType: 'image/png' }] }),
    ).rejects.toThrow(/media_upload_bytes/);
  });

  it('refuses an unsupported type before uploading anything', async () => {
    await writeFile(join(dir, 'a.zip'), Buffer.alloc(100));
    const { asked, uploads } = recordingUploads(1);
    await expect(
      buildModelRequest({
        promptText: 'x',
        media: [{ path: join(dir, 'a.zip'), mimeType: 'application/zip' }],
        uploads,
      }),
    ).rejects.toMatchObject({ code: 'INPUT_MEDIA_TYPE' });
    expect(asked).toEqual([]);
  });
});

describe('serializations', () => {
  it('writes the REST wire shape for a batch file line', async () => {
    const request = await buildModelRequest({
      promptText: 'hi',
      systemText: 'sys',
      generationConfig: { temperature: 0 },
      responseJsonSchema: { type: 'object' },
    });
    expect(JSON.parse(toBatchFileLine('r1', request))).toEqual({
      key: 'r1',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        systemInstruction: { role: 'user', parts: [{ text: 'sys' }] },
        generationConfig: {
          temperature: 0,
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'object' },
        },
      },
    });
    expect(toBatchFileLine('r1', request)).not.toContain('\n');
  });

  it('writes each line as the JSON of its wire request, byte for byte, when requests share one config and schema', async () => {
    const config = {
      temperature: 0,
      thinking_config: { thinking_budget: 0 },
      response_mime_type: 'text/x.json',
    };
    const schema = { type: 'object', properties: { 'a"\u2028b': { type: 'string' } } };
    const variants = [
      {
        promptText: 'hi "there"\n\u0000é',
        systemText: 'sys',
        generationConfig: config,
        responseJsonSchema: schema,
      },
      { promptText: 'second', generationConfig: config, responseJsonSchema: schema },
      { promptText: 'no schema', generationConfig: config },
      { promptText: 'no config', responseJsonSchema: schema },
      { promptText: 'nothing' },
      {
        promptText: 'own schema key',
        generationConfig: { response_json_schema: { type: 'string' } },
        responseJsonSchema: schema,
      },
    ];
    for (const input of variants) {
      const request = await buildModelRequest(input);
      const expected = JSON.stringify({ key: 'k"1', request: toWireRequest(request) });
      expect(toBatchFileLine('k"1', request)).toBe(expected);
      // Twice: the second line comes from what the first serialised.
      expect(toBatchFileLine('k"1', request)).toBe(expected);
    }
    const first = await buildModelRequest({
      promptText: 'a',
      generationConfig: config,
      responseJsonSchema: schema,
    });
    // A lane that raises the output limit makes a new config (the shared one is frozen): its line says so.
    const raised = { ...first, generationConfig: { ...first.generationConfig, maxOutputTokens: 99 } };
    expect(JSON.parse(toBatchFileLine('r', raised)).request.generationConfig.maxOutputTokens).toBe(99);
    expect(JSON.parse(toBatchFileLine('r', first)).request.generationConfig.maxOutputTokens).toBeUndefined();
    expect(() => {
      (first.generationConfig as Record<string, unknown>).temperature = 1;
    }).toThrow(TypeError);
  });

  it('carries the key in metadata of an inlined request, with the config in SDK form', async () => {
    const request = await buildModelRequest({
      promptText: 'hi',
      systemText: 'sys',
      responseJsonSchema: { type: 'object' },
    });
    expect(toInlinedRequest('r2', request)).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      metadata: { key: 'r2' },
      config: {
        systemInstruction: 'sys',
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object' },
      },
    });
  });
});

describe('estimateTokens', () => {
  it('counts 4 characters per token, 258 per image and per PDF page', async () => {
    const text = await buildModelRequest({ promptText: 'x'.repeat(400), systemText: 'y'.repeat(40) });
    expect(estimateTokens(text)).toBe(110);
    await writeFile(join(dir, 'p.png'), Buffer.alloc(100_000));
    const pdf = '%PDF-1.4 /Type /Pages /Type /Page x /Type/Page y';
    await writeFile(join(dir, 'd.pdf'), pdf);
    const media = await buildModelRequest({
      promptText: '',
      media: [
        { path: join(dir, 'p.png'), mimeType: 'image/png' },
        { path: join(dir, 'd.pdf'), mimeType: 'application/pdf' },
      ],
    });
    expect(estimateTokens(media)).toBe(258 + 2 * 258);
  });
});
