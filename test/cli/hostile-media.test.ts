import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { runCliWithin } from '../fixtures/cli.js';

// A data file is data: whatever its media paths name, a run must end, and read only files.

const KEY = 'wb-hostile-media-key-5c4d3e2f';
const ENV = { GEMINI_API_KEY: KEY };

describe('hostile media paths', () => {
  let folder: TempFolder;
  let emulator: RunningEmulator;
  beforeEach(async () => {
    folder = makeTempFolder('wb-hostile-media-');
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000 });
  });
  afterEach(async () => {
    await emulator.close();
    folder.remove();
  });

  /** A workload in `folder/<name>` whose rows.jsonl holds `rows`, its media under data/pages. */
  function workload(name: string, rows: Array<Record<string, unknown>>, execution = ''): string {
    folder.write(`${name}/data/pages/p1.txt`, 'page one');
    folder.write(`${name}/data/rows.jsonl`, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    folder.write(`${name}/prompts/p/v1.jinja`, 'Describe {{ record.id }}.');
    return folder.write(
      `${name}/wavebatch.yaml`,
      [
        `name: ${name}`,
        'source: { type: jsonl, path: data/rows.jsonl, media_field: scan }',
        'prompt: { name: p, version: v1 }',
        'model: { name: gemini-2.5-flash }',
        `execution: { poll_interval: 20, max_retries: 1${execution} }`,
        `api: { base_url: ${emulator.url} }`,
      ].join('\n'),
    );
  }

  it('dead-letters a record whose media is a FIFO or a folder (inline or uploaded) and finishes the run', async () => {
    // Before, the FIFO's read blocked for ever: the run hung after the sync, deaf to SIGTERM.
    for (const [name, execution] of [
      ['inline', ''],
      ['uploaded', ', media_upload_bytes: 0'],
    ] as const) {
      const config = workload(
        name,
        [
          { id: 'fine', scan: 'pages/p1.txt' },
          { id: 'text-pipe', scan: 'pages/pipe.txt' },
          { id: 'image-pipe', scan: 'pages/pipe.png' },
          { id: 'folder', scan: 'pages/folder.png' },
        ],
        execution,
      );
      const pages = folder.path(`${name}/data/pages`);
      execFileSync('mkfifo', [`${pages}/pipe.txt`, `${pages}/pipe.png`]);
      mkdirSync(`${pages}/folder.png`);
      const run = await runCliWithin(60_000, ['run', '-c', config, '--log-format', 'text'], { env: ENV });
      expect(run.code, run.stderr).toBe(3);
      for (const [id, what] of [
        ['text-pipe', 'pipe.txt is a named pipe (FIFO), not a regular file'],
        ['image-pipe', 'pipe.png is a named pipe (FIFO), not a regular file'],
        ['folder', 'folder.png is a folder, not a regular file'],
      ] as const) {
        const line = run.stderr.split('\n').find((text) => text.startsWith(`warning: dead letter ${id} `));
        expect(line, `${name}: ${id}`).toContain('[input_error]');
        expect(line).toContain(`${pages}/${what}`);
      }
    }
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['fine', 'fine']);
  }, 150_000);

  it('names a media path that is a Unix socket as such, not as a missing file', async () => {
    const config = workload('socket', [
      { id: 'fine', scan: 'pages/p1.txt' },
      { id: 'socket', scan: 'pages/sock.png' },
    ]);
    const socket = folder.path('socket/data/pages/sock.png');
    const server = createServer().listen(socket);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const run = await runCliWithin(60_000, ['run', '-c', config, '--log-format', 'text'], { env: ENV });
      expect(run.code, run.stderr).toBe(3);
      const line = run.stderr.split('\n').find((text) => text.startsWith('warning: dead letter socket '));
      expect(line).toContain(`${socket} is a socket, not a regular file`);
    } finally {
      server.close();
    }
  }, 90_000);

  it('refuses, when it is read, a media file replaced by a link out of the data folder after the sync', async () => {
    // The data file is unchanged, so the next run does not sync it again: the check made at the sync
    // was all there was, and the outside file (or the process's environment) went to the model.
    const config = workload('swapped', [
      { id: 'page', scan: 'pages/p1.txt' },
      { id: 'environment', scan: 'pages/p2.txt' },
    ]);
    folder.write('swapped/data/pages/p2.txt', 'page two');
    const secret = folder.write('secret.txt', 'TOP-SECRET-outside-the-dataset');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(folder.path('swapped/data/rows.jsonl'), hourAgo, hourAgo);
    const first = await runCliWithin(60_000, ['run', '-c', config, '--log-format', 'text'], { env: ENV });
    expect(first.code, first.stderr).toBe(0);

    const pages = folder.path('swapped/data/pages');
    rmSync(`${pages}/p1.txt`);
    symlinkSync(secret, `${pages}/p1.txt`);
    rmSync(`${pages}/p2.txt`);
    symlinkSync('/proc/self/environ', `${pages}/p2.txt`);
    const redo = await runCliWithin(
      60_000,
      ['run', '--redo', 'stale', '-c', config, '--log-format', 'text'],
      { env: ENV },
    );
    expect(redo.stderr).toContain('source unchanged since the last sync');
    expect(redo.code, redo.stderr).toBe(3);
    const deadLine = (id: string) =>
      redo.stderr.split('\n').find((text) => text.startsWith(`warning: dead letter ${id} `));
    expect(deadLine('page')).toContain(
      `${pages}/p1.txt leads to ${secret}, outside ${folder.path('swapped/data')}`,
    );
    expect(deadLine('environment')).toContain(`${pages}/p2.txt leads to /proc/`);
    const sent = JSON.stringify(emulator.ledger.entries());
    expect(sent).not.toContain('TOP-SECRET');
    expect(sent).not.toContain(KEY);
    expect(
      emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['environment', 'page']);
  }, 150_000);

  it('never reads a file of /proc or /sys, even where links out are followed', async () => {
    // A dataset link to /proc/self/environ, with follow_symlinks: true, sent the process's
    // environment (the API key) to the model as a text page: it is a regular file to stat.
    folder.write('linked/dataset/book/page_1.txt', 'page one');
    symlinkSync('/proc/self/environ', folder.path('linked/dataset/book/page_2.txt'));
    folder.write('linked/prompts/p/v1.jinja', 'Read {{ record.file }}.');
    const config = folder.write(
      'linked/wavebatch.yaml',
      [
        'name: linked',
        'source: { type: directory, path: dataset, follow_symlinks: true }',
        'prompt: { name: p, version: v1 }',
        'model: { name: gemini-2.5-flash }',
        'execution: { poll_interval: 20, max_retries: 1 }',
        `api: { base_url: ${emulator.url} }`,
      ].join('\n'),
    );
    const run = await runCliWithin(60_000, ['run', '-c', config, '--log-format', 'text'], { env: ENV });
    expect(run.code, run.stderr).toBe(3);
    const line = run.stderr.split('\n').find((text) => text.startsWith('warning: dead letter book/page_2 '));
    expect(line).toContain('leads to /proc/');
    expect(line).toContain('where the kernel shows its own state');
    expect(JSON.stringify(emulator.ledger.entries())).not.toContain(KEY);
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['book/page_1']);
  }, 90_000);
});
