import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { WorkloadService } from '../../src/service/index.js';
import {
  CATALOG_PAGE_SCHEMA,
  writeCatalogWorkload,
  type OutputSinkName,
} from '../fixtures/catalog-workload.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { openEmulatedSession } from '../fixtures/session.js';

/** Shaped like a Google API key, so redaction must take it out of anything the log shows. */
const KEY_SHAPED = `AIza${'k'.repeat(35)}`;

// A success's output is kept once: in the JSONL sink's shard line, which the inference log refers
// to, or (files sink) copied into the log, since a file is replaced when its record is redone.
describe('outputs in the inference log', () => {
  let emulator: RunningEmulator | undefined;
  let root: string | undefined;
  afterEach(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Runs two books of two pages whose every output carries a key-shaped note, to completion. */
  async function finishedRun(sink: OutputSinkName): Promise<WorkloadService> {
    const workload = writeCatalogWorkload({ books: 2, pages: 2, sink });
    root = workload.root;
    const schema = {
      ...CATALOG_PAGE_SCHEMA,
      properties: { ...CATALOG_PAGE_SCHEMA.properties, note: { type: 'string', enum: [KEY_SHAPED] } },
      required: [...CATALOG_PAGE_SCHEMA.required, 'note'],
    };
    writeFileSync(join(root, 'schema.json'), JSON.stringify(schema));
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 30_000, seed: 3 });
    const { session, config } = await openEmulatedSession(workload.configPath, emulator);
    expect((await session.runner.run()).counts.done).toBe(4);
    await session.close();
    return WorkloadService.open(config);
  }

  /** Bytes of the state store's files (database and WAL), as any reader of the data dir sees them. */
  function stateBytes(): Buffer {
    const stateDir = join(root as string, 'state');
    return Buffer.concat(
      readdirSync(stateDir)
        .filter((name) => name.startsWith('state.db'))
        .map((name) => readFileSync(join(stateDir, name))),
    );
  }

  it.each(['jsonl', 'files'] as const)(
    "shows each success's output as the %s sink committed it, redacted; the state store holds a copy only with files",
    async (sink) => {
      const service = await finishedRun(sink);
      try {
        const committed = readOutputs(join(root as string, 'out'), sink);
        const successes = (await service.events({ kind: 'attempt' })).filter((e) => e.type === 'done');
        expect(successes).toHaveLength(4);
        for (const event of successes) {
          const document = committed.get(event.recordId as string);
          // The output as committed, with the key-shaped value taken out of the log's copy only.
          expect(document?.output).toMatchObject({ note: KEY_SHAPED });
          expect(event.output).toEqual({ ...document?.output, note: '[redacted]' });
          expect(event.outputUnavailable).toBeUndefined();
          expect(Boolean(event.outputLocation)).toBe(sink === 'jsonl');
        }
        // The same through a record's history.
        const [first] = committed.keys();
        const detail = await service.record(first as string);
        expect(detail?.events.at(-1)?.output).toEqual({
          ...committed.get(first as string)?.output,
          note: '[redacted]',
        });
        // The current output as `show` prints it: redacted like the log's copies (the sink keeps it as written).
        expect(detail?.output?.output).toEqual({
          ...committed.get(first as string)?.output,
          note: '[redacted]',
        });
        // An outside reader of the data dir finds no output text in the state store with the JSONL
        // sink (a course name is in no prompt: only the carry-over is passed on), and a copy with files.
        const courses = [...committed.values()].flatMap((document) => document.output.courses);
        const store = stateBytes();
        const stored = courses.filter((course) => store.includes(course));
        expect(stored).toEqual(sink === 'jsonl' ? [] : courses);
        expect(store.includes(KEY_SHAPED)).toBe(false);
      } finally {
        await service.close();
      }
    },
  );

  it('says an output is unavailable, never shows another, when its shard was changed or cut by hand', async () => {
    const service = await finishedRun('jsonl');
    try {
      const shards = readdirSync(join(root as string, 'out')).filter((name) => name.endsWith('.jsonl'));
      expect(shards).toHaveLength(1);
      const shard = join(root as string, 'out', shards[0] as string);
      // One line rewritten in place as another attempt's (same length, same record): not shown.
      const lines = readFileSync(shard, 'utf8').split('\n');
      const edited = lines[0]?.replace('"attempt":0', '"attempt":7') as string;
      expect(edited).not.toBe(lines[0]);
      writeFileSync(shard, [edited, ...lines.slice(1)].join('\n'));
      const editedId = (JSON.parse(edited) as { id: string }).id;
      const [changed] = (await service.events({ recordId: editedId, kind: 'attempt' })).filter(
        (e) => e.type === 'done',
      );
      expect(changed?.output).toBeUndefined();
      expect(changed?.outputUnavailable).toMatch(
        /^the line at byte 0 of shard 1 no longer holds this attempt's output$/,
      );
      // One line damaged (not JSON any more, same length): that event says so, the others still show theirs.
      const damaged = `{${'x'.repeat(Buffer.byteLength(lines[1] as string) - 1)}`;
      writeFileSync(shard, [lines[0], damaged, ...lines.slice(2)].join('\n'));
      const damagedId = (JSON.parse(lines[1] as string) as { id: string }).id;
      const afterDamage = (await service.events({ kind: 'attempt' })).filter((e) => e.type === 'done');
      const byteOfDamaged = Buffer.byteLength(`${lines[0]}\n`);
      for (const event of afterDamage) {
        if (event.recordId === damagedId) {
          expect(event.output).toBeUndefined();
          expect(event.outputUnavailable).toBe(
            `the line at byte ${byteOfDamaged} of shard 1 cannot be read: [OUTPUT_CORRUPT] Output shard ${shard} is corrupt ` +
              `at byte ${byteOfDamaged} (the line of ${damagedId} is not valid JSON); move the shard aside ` +
              'and run again to have its records run again.',
          );
        } else expect(event.output).toMatchObject({ note: '[redacted]' });
      }
      truncateSync(shard, 0);
      const successes = (await service.events({ kind: 'attempt' })).filter((e) => e.type === 'done');
      expect(successes).toHaveLength(4);
      for (const event of successes) {
        expect(event.output).toBeUndefined();
        expect(event.outputUnavailable).toMatch(/^the line at byte \d+ of shard 1 cannot be read: /);
      }
      // A listing that does not show outputs does not read the lines at all.
      const listed = await service.events({ kind: 'attempt' }, { outputs: false });
      expect(listed.filter((e) => e.outputUnavailable !== undefined)).toEqual([]);
    } finally {
      await service.close();
    }
  });
});
