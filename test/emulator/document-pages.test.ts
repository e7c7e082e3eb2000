import { describe, expect, it } from 'vitest';
import { emulatorSandbox, sdkFor } from './harness.js';
import { estimateTokens } from '../../src/gemini/request.js';

const MODEL = 'gemini-2.5-flash';

/** A minimal PDF with `pages` page objects. */
function pdf(pages: number): Buffer {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  const objects = [
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    `2 0 obj << /Type /Pages /Kids [${kids}] /Count ${pages} >> endobj`,
    ...Array.from({ length: pages }, (_, i) => `${i + 3} 0 obj << /Type /Page /Parent 2 0 R >> endobj`),
  ];
  return Buffer.from(`%PDF-1.4\n${objects.join('\n')}\n%%EOF\n`, 'latin1');
}

/** One user turn of a short prompt (3 tokens) and a 10-page PDF with the given documentMetadata. */
function document(documentMetadata?: Record<string, unknown>) {
  return [
    {
      role: 'user',
      parts: [
        { text: 'Describe it.' },
        {
          inlineData: { mimeType: 'application/pdf', data: pdf(10).toString('base64') },
          ...(documentMetadata ? { documentMetadata } : {}),
        },
      ],
    },
  ];
}

// Part.documentMetadata names a PDF's pages, "1-indexed inclusive" (@google/genai 3.6's
// DocumentMetadata); Google reads only those, at 258 tokens a page. The emulator counted every page.
describe("the emulator counts only the pages a document part's documentMetadata names", () => {
  const sandbox = emulatorSandbox();

  it('counts, bills and estimates pages startPage to endPage, 258 tokens each', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const count = async (contents: ReturnType<typeof document>) =>
      (await ai.models.countTokens({ model: MODEL, contents })).totalTokens;
    expect(await count(document())).toBe(3 + 10 * 258);
    const pages3to5 = document({ startPage: 3, endPage: 5 });
    expect(await count(pages3to5)).toBe(3 + 3 * 258);
    // From a page to the end, and an end past the last page, stop at the last page.
    expect(await count(document({ startPage: 9 }))).toBe(3 + 2 * 258);
    expect(await count(document({ startPage: 8, endPage: 40 }))).toBe(3 + 3 * 258);

    const answer = await ai.models.generateContent({ model: MODEL, contents: pages3to5 });
    expect(answer.usageMetadata?.promptTokenCount).toBe(3 + 3 * 258);
    expect(emulator.ledger.entries().map((entry) => entry.inputTokens)).toEqual([3 + 3 * 258]);
    // wavebatch's estimate counts the same pages (one function in src/media).
    expect(estimateTokens({ contents: pages3to5 })).toBe(3 + 3 * 258);
  });
});
