import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledChild } from '../fixtures/compiled-child.js';

const CHILD = compiledChild('open-store-child');
const PROCESSES = 6;
const ROUNDS = 25;

interface Opener {
  child: ChildProcess;
  next: () => Promise<string>;
}

/** A child process that opens stores when told (test/fixtures/open-store-child.ts). */
async function opener(): Promise<Opener> {
  const child = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Interface = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => {
    const resolve = waiting.shift();
    if (resolve) resolve(line);
    else queue.push(line);
  });
  const next = () =>
    new Promise<string>((resolve) => {
      const line = queue.shift();
      if (line !== undefined) resolve(line);
      else waiting.push(resolve);
    });
  expect(await next()).toBe('ready');
  return { child, next };
}

describe('several processes opening the same fresh state store at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wb-open-race-'));
  const openers: Opener[] = [];
  afterAll(() => {
    for (const { child } of openers) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  // Two runners started together on a new workload both switch the new file to WAL: in SQLite's
  // rollback mode, two connections that both read before they write cannot both wait, and one got
  // "database is locked" at once, whatever the busy timeout (the fault soak, seeds 834731 and 60126).
  it('all open it: none fails with "database is locked"', async () => {
    openers.push(...(await Promise.all(Array.from({ length: PROCESSES }, opener))));
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const path = join(dir, `round-${round}`, 'state.db');
      for (const { child } of openers) child.stdin!.write(`${path}\n`);
      const answers = await Promise.all(openers.map(({ next }) => next()));
      failures.push(
        ...answers.filter((answer) => answer !== 'ok').map((answer) => `round ${round}: ${answer}`),
      );
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
