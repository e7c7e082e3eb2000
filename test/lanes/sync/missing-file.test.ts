import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGeminiClient, type GeminiClient, type RemoteFile } from '../../../src/gemini/index.js';
import type { RunnerEvent } from '../../../src/runner/events.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { writeNoisePng } from '../../media/png.js';

// Real time: the media uploader's 10-minute trust in a file it saw alive outlasts both runs on any
// machine (at 60 times it was 10 real s, which a busy machine could pass), so the second run sends
// the deleted file's URI without asking the Files API first.
const TIME_SCALE = 1;

/** Four scanned pages on the standard lane: two large (uploaded), two small (inline); one chain per page. */
function writeScans(): { root: string; configPath: string; large: string[]; small: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'wb-missing-file-'));
  const large = ['ST/school/1900/page_1', 'ST/school/1901/page_1'];
  const small = ['ST/school/1902/page_1', 'ST/school/1903/page_1'];
  for (const [index, id] of [...large, ...small].entries()) {
    const path = join(root, 'dataset', `${id}.png`);
    mkdirSync(join(path, '..'), { recursive: true });
    const size = large.includes(id) ? 160 : 4;
    writeNoisePng(path, size, size, index + 1); // 160x160 noise: ~77 KB, over the upload threshold
  }
  mkdirSync(join(root, 'prompts', 'page'), { recursive: true });
  writeFileSync(join(root, 'prompts', 'page', 'v1.jinja'), 'Transcribe page {{ record.page }}.\n');
  const yaml = [
    'name: scans',
    'data_dir: state',
    'outputs: out',
    'source: { type: directory, path: dataset, levels: [state, school, year] }',
    'prompt: { dir: prompts, name: page, version: v1 }',
    'model: { name: gemini-2.5-flash }',
    'execution:',
    '  mode: realtime',
    '  max_retries: 3',
    '  sync_concurrency: 1',
    '  media_upload_bytes: 50000',
  ].join('\n');
  const configPath = join(root, 'wavebatch.yaml');
  writeFileSync(configPath, `${yaml}\n`);
  return { root, configPath, large, small };
}

/** The media files the Files API holds now (the uploader names them wb-media-...). */
async function mediaFiles(client: GeminiClient): Promise<RemoteFile[]> {
  const found: RemoteFile[] = [];
  for await (const file of client.listFiles())
    if (file.displayName?.startsWith('wb-media-')) found.push(file);
  return found;
}

describe('an uploaded file gone before a synchronous request that names it', () => {
  const sandbox = emulatorSandbox();

  it('fails and retries that record (its file uploaded again) while the others go on; the run does not stop', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: TIME_SCALE, seed: 3 });
    const workload = writeScans();
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, TIME_SCALE),
    });
    try {
      expect((await session.runner.run()).counts).toMatchObject({ done: 4, dead: 0 });
      const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
      const uploads = await mediaFiles(client);
      expect(uploads).toHaveLength(2);
      // The first large page's copy is deleted (as an expired or deleted file is gone at Google).
      const [gone] = uploads;
      await client.deleteFile(gone?.name ?? '');
      // Every page is sent again: the outputs are gone.
      for (const id of [...workload.large, ...workload.small]) rmSync(join(root, 'out', `${id}.json`));
      emulator.ledger.clear();
      events.length = 0;

      const summary = await session.runner.run();
      expect(summary.counts).toMatchObject({ done: 4, dead: 0, total: 4 });
      // The refused request was billed nothing; each page billed once by the run (the one whose file
      // was gone after it was uploaded again).
      expect(emulator.ledger.entries()).toHaveLength(4);
      const failed = events.filter(
        (event): event is Extract<RunnerEvent, { type: 'record-failed' }> => event.type === 'record-failed',
      );
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ cause: 'api_error', outcome: 'retry' });
      expect(failed[0]?.message).toMatch(/uploaded again/);
      const after = await mediaFiles(client);
      expect(after).toHaveLength(2);
      expect(after.map((file) => file.name)).not.toContain(gone?.name);
    } finally {
      await session.close();
    }
  }, 60_000);
});
