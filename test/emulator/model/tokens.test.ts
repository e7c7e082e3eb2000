import { describe, expect, it } from 'vitest';
import {
  answerRequest,
  countRequestTokens,
  TOKENS_PER_IMAGE,
  type WireGenerateRequest,
} from '../../../src/emulator/model/index.js';
import { estimateTokens } from '../../../src/gemini/request.js';

/** A minimal PDF with `pages` page objects under one /Pages tree. */
function pdf(pages: number): Buffer {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  const objects = [
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    `2 0 obj << /Type /Pages /Kids [${kids}] /Count ${pages} >> endobj`,
    ...Array.from(
      { length: pages },
      (_, i) => `${i + 3} 0 obj << /Type/Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj`,
    ),
  ];
  return Buffer.from(`%PDF-1.4\n${objects.join('\n')}\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
}

function withParts(parts: unknown[], systemInstruction?: unknown): WireGenerateRequest {
  return {
    contents: [{ role: 'user', parts }],
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
  };
}

describe('countRequestTokens', () => {
  it('counts text at 1 token per 4 characters, system instruction included, rounded up once', () => {
    expect(countRequestTokens(withParts([{ text: 'abcd' }]))).toBe(1);
    expect(countRequestTokens(withParts([{ text: 'abcde' }]))).toBe(2);
    expect(
      countRequestTokens(withParts([{ text: 'ab' }, { text: 'cd' }], { parts: [{ text: 'efgh' }] })),
    ).toBe(2);
    expect(countRequestTokens(withParts([{ text: 'x'.repeat(400) }], 'y'.repeat(400)))).toBe(200);
    expect(countRequestTokens({})).toBe(0);
  });

  it('counts the response schema as input text, in either spelling (Google bills it: it counts toward the input limit)', () => {
    const schema = { type: 'object', properties: { carry_over: { type: 'string' } } };
    const text = 'x'.repeat(40);
    const expected = Math.ceil((text.length + JSON.stringify(schema).length) / 4);
    expect(
      countRequestTokens({ ...withParts([{ text }]), generationConfig: { responseJsonSchema: schema } }),
    ).toBe(expected);
    expect(
      countRequestTokens({ ...withParts([{ text }]), generation_config: { response_schema: schema } }),
    ).toBe(expected);
    // wavebatch's own estimate counts it the same way.
    expect(
      estimateTokens({ contents: [{ role: 'user', parts: [{ text }] }], responseJsonSchema: schema }),
    ).toBe(expected);
  });

  it('counts 258 per image and 258 per PDF page', () => {
    const png = {
      inlineData: { mimeType: 'image/png', data: Buffer.from([137, 80, 78, 71, 1, 2, 3]).toString('base64') },
    };
    expect(countRequestTokens(withParts([png, png]))).toBe(2 * TOKENS_PER_IMAGE);
    expect(countRequestTokens(withParts([{ text: 'abcdefgh' }, png]))).toBe(2 + 258);
    const document = { inlineData: { mimeType: 'application/pdf', data: pdf(3).toString('base64') } };
    expect(countRequestTokens(withParts([document]))).toBe(3 * 258);
    expect(
      countRequestTokens(
        withParts([{ inline_data: { mime_type: 'application/pdf', data: pdf(5).toString('base64') } }]),
      ),
    ).toBe(5 * 258);
  });

  it('counts a large image in tiles of 258 tokens, read from its header (PNG, JPEG, GIF, WebP)', () => {
    const png = (width: number, height: number) => {
      const bytes = Buffer.alloc(33);
      bytes.writeUInt32BE(0x89504e47, 0);
      bytes.writeUInt32BE(0x0d0a1a0a, 4);
      bytes.writeUInt32BE(13, 8);
      bytes.write('IHDR', 12, 'latin1');
      bytes.writeUInt32BE(width, 16);
      bytes.writeUInt32BE(height, 20);
      return bytes;
    };
    const jpeg = (width: number, height: number) => {
      const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]);
      const sof = Buffer.alloc(11);
      sof.writeUInt16BE(0xffc0, 0);
      sof.writeUInt16BE(11 - 2, 2);
      sof[4] = 8;
      sof.writeUInt16BE(height, 5);
      sof.writeUInt16BE(width, 7);
      return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]);
    };
    const gif = (width: number, height: number) => {
      const bytes = Buffer.alloc(13);
      bytes.write('GIF89a', 0, 'latin1');
      bytes.writeUInt16LE(width, 6);
      bytes.writeUInt16LE(height, 8);
      return bytes;
    };
    const webp = (width: number, height: number) => {
      const bytes = Buffer.alloc(30);
      bytes.write('RIFF', 0, 'latin1');
      bytes.write('WEBPVP8X', 8, 'latin1');
      bytes.writeUIntLE(width - 1, 24, 3);
      bytes.writeUIntLE(height - 1, 27, 3);
      return bytes;
    };
    const tokens = (mimeType: string, bytes: Buffer) =>
      countRequestTokens(withParts([{ inlineData: { mimeType, data: bytes.toString('base64') } }]));
    // Both sides at most 384 px: one image.
    expect(tokens('image/png', png(384, 200))).toBe(258);
    // 3000 x 3000: tiles of 768 px (2000 clamped), 4 x 4.
    expect(tokens('image/png', png(3000, 3000))).toBe(16 * 258);
    // 1000 x 500: tiles of 333 px, 4 x 2.
    expect(tokens('image/jpeg', jpeg(1000, 500))).toBe(8 * 258);
    expect(tokens('image/gif', gif(3000, 3000))).toBe(16 * 258);
    expect(tokens('image/webp', webp(400, 100))).toBe(2 * 258);
    // A header it cannot read: one image.
    expect(tokens('image/png', Buffer.from([1, 2, 3]))).toBe(258);
  });

  it('counts unreadable audio by its size at an assumed 16,000 bytes a second, other binaries at ~1 token per 4 bytes, and inline text files as text', () => {
    // No header to read a length from: 32,000 bytes are 2 s, 32 tokens each.
    const audio = { inlineData: { mimeType: 'audio/wav', data: Buffer.alloc(32_000).toString('base64') } };
    expect(countRequestTokens(withParts([audio]))).toBe(64);
    const other = {
      inlineData: { mimeType: 'application/zip', data: Buffer.alloc(1000).toString('base64') },
    };
    expect(countRequestTokens(withParts([other]))).toBe(250);
    const note = { inlineData: { mimeType: 'text/plain', data: Buffer.from('12345678').toString('base64') } };
    expect(countRequestTokens(withParts([{ text: 'abcd' }, note]))).toBe(3);
  });

  it('counts fileData from the resolved bytes, or as one page/image when the file is unknown', () => {
    const request = withParts([
      { fileData: { mimeType: 'application/pdf', fileUri: 'https://x/v1beta/files/abc' } },
    ]);
    expect(countRequestTokens(request)).toBe(258);
    expect(
      countRequestTokens(request, (uri) =>
        uri.endsWith('/abc') ? { mimeType: 'application/pdf', data: pdf(4) } : undefined,
      ),
    ).toBe(4 * 258);
  });

  it('reports the same count as usageMetadata, split by modality', () => {
    const request = withParts([
      { text: 'abcdefgh' },
      { inlineData: { mimeType: 'image/jpeg', data: 'AAAA' } },
      { inlineData: { mimeType: 'application/pdf', data: pdf(2).toString('base64') } },
    ]);
    const answer = answerRequest({ model: 'gemini-2.5-flash', request, key: null, seed: 1 }, null);
    expect(answer.kind === 'response' && answer.response.usageMetadata).toMatchObject({
      promptTokenCount: 2 + 258 + 516,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: 2 },
        { modality: 'IMAGE', tokenCount: 258 },
        { modality: 'DOCUMENT', tokenCount: 516 },
      ],
    });
    expect(answer.kind === 'response' && answer.inputTokens).toBe(776);
  });

  it("agrees with the planner's estimate for text, images and PDFs (no schema)", () => {
    const contents = [
      {
        role: 'user',
        parts: [
          { text: 'Describe this page in detail.' },
          { inlineData: { mimeType: 'application/pdf', data: pdf(2).toString('base64') } },
        ],
      },
    ];
    expect(countRequestTokens({ contents, systemInstruction: { parts: [{ text: 'Be brief.' }] } })).toBe(
      estimateTokens({ contents, systemInstruction: 'Be brief.' }),
    );
  });
});
