import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { OUTPUT_SINKS, writeCatalogWorkload, type OutputSinkName } from '../fixtures/catalog-workload.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { openEmulatedSession } from '../fixtures/session.js';

/** Turns the catalog config's `outputs` into a mapping with `assemble` (the fixture writes the plain form). */
function withAssemble(configPath: string, sink: OutputSinkName, assemble: string[]): void {
  const yaml = readFileSync(configPath, 'utf8');
  const outputs = [
    'outputs:',
    `  sink: ${sink}`,
    '  path: out',
    '  assemble:',
    ...assemble.map((line) => `    ${line}`),
  ];
  const replaced = yaml.replace(/^outputs:.*\n(?: {2}.*\n)*/mu, `${outputs.join('\n')}\n`);
  writeFileSync(configPath, replaced);
}

/** Every file below `folder`, as paths relative to it. */
function filesBelow(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .sort();
}

describe.each(OUTPUT_SINKS)('assembled chain documents on the emulator, %s output sink', (sink) => {
  const sandbox = emulatorSandbox();
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await sandbox.startEmulator({
      timeScale: 3600,
      turnaroundMs: { min: 30_000, max: 120_000 },
      seed: 3,
    });
  });

  it('writes one markdown document per chain, pages in order, from the outputs in the sink', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 3, sink, pagesPerBook: [3, 1, 4] });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    withAssemble(workload.configPath, sink, ['format: markdown', 'field: carry_over', 'path: book']);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run();
    await session.close();

    expect(summary.counts).toMatchObject({ done: 8, dead: 0 });
    expect(emulator.ledger.entries()).toHaveLength(8);
    expect(events.filter((event) => event.type === 'warning')).toEqual([]);
    const outputs = readOutputs(join(root, 'out'), sink);
    expect(filesBelow(join(root, 'book'))).toEqual([
      'ST/school1/1900.md',
      'ST/school2/1900.md',
      'ST/school3/1900.md',
    ]);
    for (const [index, chain] of workload.chains.entries()) {
      const document = readFileSync(join(root, 'book', 'ST', `school${index + 1}`, '1900.md'), 'utf8');
      const expected = chain.map((id) => outputs.get(id)?.output.carry_over);
      expect(expected.every((text) => typeof text === 'string' && text.length > 0)).toBe(true);
      expect(document).toBe(`${expected.join('\n\n').trimEnd()}\n`);
    }
    // No temp file is left behind.
    expect(readdirSync(join(root, 'book', 'ST', 'school1'))).toEqual(['1900.md']);
  });

  it('rebuilds a chain as its records complete: pages not done yet are marked, then filled in', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 3, sink });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    withAssemble(workload.configPath, sink, ['field: carry_over']);
    const document = () => readFileSync(join(root, 'assembled', 'ST', 'school1', '1900.md'), 'utf8');
    const chain = workload.chains[0] ?? [];

    // Passes of a cron-style run-once until the first pages are done: the document holds them and marks the rest.
    const first = await openEmulatedSession(workload.configPath, emulator);
    for (let pass = 0; (await first.session.store.counts()).done === 0; pass++) {
      if (pass > 200) throw new Error('no page was ever done');
      await first.session.runner.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const done = await first.session.store.counts();
    await first.session.close();
    expect(done.done).toBeLessThan(6);
    const partial = document();
    expect(partial).toContain(`record \`${chain[2]}\` (position 3) is not done yet`);
    const page1 = readOutputs(join(root, 'out'), sink).get(chain[0] as string)?.output.carry_over as string;
    expect(partial.startsWith(`${page1}\n\n`)).toBe(true);

    const rest = await openEmulatedSession(workload.configPath, emulator);
    await rest.session.runner.run();
    await rest.session.close();
    const outputs = readOutputs(join(root, 'out'), sink);
    expect(document()).toBe(
      `${chain
        .map((id) => outputs.get(id)?.output.carry_over)
        .join('\n\n')
        .trimEnd()}\n`,
    );
    expect(emulator.ledger.entries()).toHaveLength(6);
  });

  it('rebuilds at a start only the documents of chains that changed since they were written', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2, sink });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    withAssemble(workload.configPath, sink, ['field: carry_over']);
    const folder = join(root, 'assembled');
    const path = (book: number) => join(folder, 'ST', `school${book}`, '1900.md');
    const inodes = () => [1, 2, 3].map((book) => statSync(path(book)).ino);
    const runOnce = async () => {
      const { session, events } = await openEmulatedSession(workload.configPath, emulator);
      try {
        await session.runner.run();
      } finally {
        await session.close();
      }
      expect(events.filter((event) => event.type === 'warning')).toEqual([]);
    };
    await runOnce();
    expect(emulator.ledger.entries()).toHaveLength(6);
    const written = inodes();
    const expected = (book: number) => {
      const outputs = readOutputs(join(root, 'out'), sink, { redone: true });
      const chain = workload.chains[book - 1] ?? [];
      return `${chain.map((id) => outputs.get(id)?.output.carry_over).join('\n\n')}\n`;
    };
    expect(readFileSync(path(2), 'utf8')).toBe(expected(2));

    // A start over records that did not change rewrites no document and reads none of their
    // outputs: a document edited by hand is left as it is (nothing about its chain changed), and
    // only a document that is gone is written again.
    writeFileSync(path(1), 'edited by hand\n');
    const edited = statSync(path(1)).ino;
    rmSync(path(3));
    await runOnce();
    expect(inodes().slice(0, 2)).toEqual([edited, written[1]]);
    expect(readFileSync(path(1), 'utf8')).toBe('edited by hand\n');
    expect(readFileSync(path(3), 'utf8')).toBe(expected(3));
    written[2] = statSync(path(3)).ino;

    // A record of book 2 sent again: only book 2's document is written again, from its new output.
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    expect(await session.store.markForRedo([workload.chains[1]?.[1] as string])).toBe(1);
    await session.close();
    // Answered with an output unlike the first, so the document must change (the synthetic model
    // may well answer the same request the same way, which rightly leaves the document as it is).
    emulator.setResponder(() => ({
      text: JSON.stringify({ courses: ['Redone'], carry_over: 'redone page' }),
    }));
    await runOnce();
    emulator.setResponder(undefined);
    expect(emulator.ledger.entries()).toHaveLength(7);
    expect(readFileSync(path(2), 'utf8')).toContain('redone page');
    // Book 2's document is shown rewritten by its content, not by its inode: it may be replaced twice
    // in one run (at the start, its chain changed; again when the redone record is done), and the
    // file system may hand the second temp file the inode the first replacement freed.
    const after = inodes();
    expect(after[0]).toBe(edited);
    expect(after[2]).toBe(written[2]);
    expect(readFileSync(path(2), 'utf8')).toBe(expected(2));

    // The folder gone: every document is written again.
    rmSync(folder, { recursive: true });
    await runOnce();
    for (const book of [1, 2, 3]) expect(readFileSync(path(book), 'utf8')).toBe(expected(book));
    expect(emulator.ledger.entries()).toHaveLength(7);
  });

  it('writes JSON Lines documents: one line per record in position order', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 3, sink });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    withAssemble(workload.configPath, sink, ['format: jsonl']);
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    await session.runner.run();
    await session.close();

    const outputs = readOutputs(join(root, 'out'), sink);
    for (const [index, chain] of workload.chains.entries()) {
      const text = readFileSync(join(root, 'assembled', 'ST', `school${index + 1}`, '1900.jsonl'), 'utf8');
      const lines = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; position: number; status: string; output: unknown });
      expect(lines.map((line) => line.id)).toEqual(chain);
      expect(lines.map((line) => line.status)).toEqual(chain.map(() => 'done'));
      expect(lines.map((line) => line.output)).toEqual(chain.map((id) => outputs.get(id)?.output));
      const positions = lines.map((line) => line.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
  });

  it('keeps documents of hostile chain ids inside the assembly folder', async () => {
    const root = sandbox.tempDir('wb-assembly-');
    const work = join(root, 'work');
    mkdirSync(join(work, 'prompts', 'note'), { recursive: true });
    writeFileSync(join(work, 'prompts', 'note', 'v1.jinja'), 'Write a note about {{ record.topic }}.\n');
    const chains = ['../../escape', '/etc/passwd', '.hidden', 'a\\b', '..', 'x//y', '%2E%2E'];
    const rows = chains.flatMap((chain, index) => [
      { id: `r${index}a`, chain, pos: 1, topic: `topic ${index} a` },
      { id: `r${index}b`, chain, pos: 2, topic: `topic ${index} b` },
    ]);
    writeFileSync(join(work, 'data.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    writeFileSync(
      join(work, 'wavebatch.yaml'),
      [
        'name: hostile',
        'data_dir: state',
        'outputs:',
        `  sink: ${sink}`,
        '  path: out',
        '  assemble:',
        '    format: jsonl',
        '    path: docs',
        'source:',
        '  type: jsonl',
        '  path: data.jsonl',
        '  id_field: id',
        '  chain_field: chain',
        '  position_field: pos',
        'prompt:',
        '  name: note',
        '  version: v1',
        'model:',
        '  name: gemini-2.5-flash',
        'execution:',
        '  poll_interval: 20',
        '',
      ].join('\n'),
    );
    const { session } = await openEmulatedSession(join(work, 'wavebatch.yaml'), emulator);
    const summary = await session.runner.run();
    await session.close();

    expect(summary.counts).toMatchObject({ done: 14, dead: 0 });
    // Nothing was written beside the workload folder, nor in it outside out/, docs/ and state/.
    expect(readdirSync(root)).toEqual(['work']);
    expect(readdirSync(work).sort()).toEqual([
      'data.jsonl',
      'docs',
      'out',
      'prompts',
      'state',
      'wavebatch.yaml',
    ]);
    const documents = filesBelow(join(work, 'docs'));
    expect(documents).toHaveLength(chains.length);
    expect(documents.every((path) => !path.split('/').some((part) => part.startsWith('.')))).toBe(true);
    // Each chain got its own document, holding exactly its own records.
    const ids = documents.map((path) =>
      readFileSync(join(work, 'docs', path), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { id: string }).id)
        .join(','),
    );
    expect(ids.sort()).toEqual(chains.map((_, index) => `r${index}a,r${index}b`).sort());
  });
});
