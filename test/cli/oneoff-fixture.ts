import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, expect } from 'vitest';
import type { OneoffDeps } from '../../src/cli/commands/oneoff-options.js';
import { reportError } from '../../src/cli/report-error.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { rawGet } from '../emulator/harness.js';

/** A key that must never show up in anything the commands print or throw. */
export const SECRET_KEY = 'AIzaFAKE-oneoff-cli-key-77ab';

/** One request in REST form. */
export function request(text: string): { contents: Array<{ role: string; parts: Array<{ text: string }> }> } {
  return { contents: [{ role: 'user', parts: [{ text }] }] };
}

/** An emulator, a temp folder, and the one-off commands run in-process against both. */
export interface OneoffWorld {
  emulator: RunningEmulator;
  dir: string;
  deps: OneoffDeps;
  /** Everything printed or thrown so far (messages and stacks), to check that the key never leaks. */
  transcript: string[];
  /** Runs a command and returns what it printed; a thrown error is recorded and rethrown. */
  run(factory: (deps: OneoffDeps) => Command, args: string[]): Promise<string>;
  /** Runs a command that must fail; returns the error, its exit code and what the CLI prints for it. */
  fail(
    factory: (deps: OneoffDeps) => Command,
    args: string[],
  ): Promise<{ error: Error & { code?: string }; exitCode: number; stderr: string }>;
  /** Polls the job (bounded) until its wire state is one of `states`, e.g. 'RUNNING'. */
  waitFor(name: string, states: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts an emulator with these options and points the commands at it with a secret key. */
export async function oneoffWorld(options: EmulatorOptions): Promise<OneoffWorld> {
  const emulator = await startEmulator(options);
  const dir = await mkdtemp(join(tmpdir(), 'wb-oneoff-'));
  const transcript: string[] = [];
  let printed = '';
  const deps: OneoffDeps = {
    env: { GEMINI_API_KEY: SECRET_KEY, WAVEBATCH_BASE_URL: emulator.url },
    print: (text) => {
      printed += text;
      transcript.push(text);
    },
  };
  const run = async (factory: (d: OneoffDeps) => Command, args: string[]): Promise<string> => {
    printed = '';
    const command = factory(deps)
      .exitOverride()
      .configureOutput({ writeErr: (text) => void transcript.push(text), writeOut: () => undefined });
    try {
      await command.parseAsync(args, { from: 'user' });
    } catch (error) {
      transcript.push(error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error));
      throw error;
    }
    return printed;
  };
  return {
    emulator,
    dir,
    deps,
    transcript,
    run,
    async fail(factory, args) {
      const error = await run(factory, args).then(
        () => {
          throw new Error(`expected ${args.join(' ')} to fail`);
        },
        (caught: unknown) => caught as Error & { code?: string },
      );
      const { exitCode, stderr } = exitCodeOf(error);
      transcript.push(stderr);
      return { error, exitCode, stderr };
    },
    async waitFor(name, states, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await rawGet(emulator, name);
        const state = String((body.metadata as { state?: unknown } | undefined)?.state ?? '').replace(
          'BATCH_STATE_',
          '',
        );
        if (states.includes(state)) return body;
        if (Date.now() > deadline)
          throw new Error(
            `${name} not in ${states.join('/')} after ${timeoutMs} ms: ${JSON.stringify(body)}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The exit code the CLI picks for an error (src/cli/report-error.ts) and the line it writes to stderr. */
export function exitCodeOf(error: unknown): { exitCode: number; stderr: string } {
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((text: string) => {
    stderr += text;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { exitCode: reportError(error), stderr };
  } finally {
    process.stderr.write = write;
  }
}

/**
 * Starts each test's world: after the test, checks that the key never showed up in its transcript
 * and closes it (one world a test).
 */
export function oneoffWorlds(): (options: EmulatorOptions) => Promise<OneoffWorld> {
  let world: OneoffWorld | undefined;
  afterEach(async () => {
    if (!world) return;
    const started = world;
    world = undefined;
    expect(started.transcript.join('\n')).not.toContain(SECRET_KEY);
    await started.close();
  });
  return async (options) => (world = await oneoffWorld(options));
}
