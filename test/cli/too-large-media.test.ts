import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { runCliWithin, startCli } from '../fixtures/cli.js';

const ENV = { GEMINI_API_KEY: 'wb-too-large-media-key-7e1f' };
/** The front end's body limit: the small pages and the job's input fit it, the big page does not. */
const LIMIT_BYTES = 4000;
const BIG_PAGE_BYTES = 20_000;

/** A 1×1 PNG padded after its end to `bytes` bytes. */
function png(bytes: number): Buffer {
  const pixel = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  return Buffer.concat([pixel, Buffer.alloc(Math.max(0, bytes - pixel.length))]);
}

// A media upload refused as too large (413, or Google's 400 "Request payload size exceeds the limit")
// was read as a passing failure: the record was skipped round after round and the run never ended.
describe('a media upload the API refuses as too large', () => {
  let folder: TempFolder;
  let emulator: RunningEmulator;
  beforeEach(async () => {
    folder = makeTempFolder('wb-too-large-media-');
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, maxRequestBytes: LIMIT_BYTES });
  });
  afterEach(async () => {
    await emulator.close();
    folder.remove();
  });

  it.each(['batch', 'flex'])(
    'dead-letters that record alone on the %s lane, naming its size and the limit; the others are done and billed once',
    async (mode) => {
      mkdirSync(folder.path('w/data/pages'), { recursive: true });
      writeFileSync(folder.path('w/data/pages/p1.png'), png(200));
      writeFileSync(folder.path('w/data/pages/p2.png'), png(300));
      writeFileSync(folder.path('w/data/pages/big.png'), png(BIG_PAGE_BYTES));
      folder.write(
        'w/data/rows.jsonl',
        [
          { id: 'one', scan: 'pages/p1.png' },
          { id: 'big', scan: 'pages/big.png' },
          { id: 'two', scan: 'pages/p2.png' },
        ]
          .map((row) => JSON.stringify(row))
          .join('\n') + '\n',
      );
      folder.write('w/prompts/p/v1.jinja', 'Describe {{ record.id }}.');
      const config = folder.write(
        'w/wavebatch.yaml',
        [
          'name: w',
          'source: { type: jsonl, path: data/rows.jsonl, media_field: scan }',
          'prompt: { name: p, version: v1 }',
          'model: { name: gemini-2.5-flash }',
          `execution: { mode: ${mode}, poll_interval: 20, max_retries: 1, media_upload_bytes: 0 }`,
          `api: { base_url: ${emulator.url} }`,
        ].join('\n'),
      );

      const run = await runCliWithin(60_000, ['run', '-c', config, '--log-format', 'text'], { env: ENV });
      expect(run.code, run.stderr).toBe(3);

      const listed = await startCli(['failures', '-c', config, '--json'], { env: ENV }).result;
      expect(listed.code, listed.stderr).toBe(0);
      const failures = JSON.parse(listed.stdout) as Array<{
        recordId: string;
        cause: string;
        final: boolean;
        message: string;
      }>;
      expect(failures.map(({ recordId, cause, final }) => ({ recordId, cause, final }))).toEqual([
        { recordId: 'big', cause: 'too_large', final: true },
      ]);
      expect(failures[0]?.message).toContain(`${BIG_PAGE_BYTES} bytes`);
      expect(failures[0]?.message).toContain('big.png');
      expect(failures[0]?.message).toContain('HTTP 413');
      expect(failures[0]?.message).not.toMatch(/retry (the run )?later/i);

      const billed = emulator.ledger.entries().map((entry) => /Describe (\S+)\./.exec(entry.promptText)?.[1]);
      expect(billed.sort()).toEqual(['one', 'two']);
      expect([...new Set(emulator.ledger.entries().map((entry) => entry.lane))]).toEqual([mode]);
    },
    90_000,
  );
});
