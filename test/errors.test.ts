import { describe, expect, it, vi } from 'vitest';
import {
  describeError,
  describeErrorMessage,
  MAX_SERVER_MESSAGE_BYTES,
  WavebatchError,
} from '../src/errors.js';
import { ConfigError } from '../src/config/config-error.js';
import { GeminiApiError } from '../src/gemini/errors.js';
import { MissingContextError, RecordRequestError } from '../src/runner/record-request.js';
import { SourceError } from '../src/workload/errors.js';
import { asUnwritablePath, UnwritablePathError } from '../src/unwritable-path.js';
import { ExportTargetError } from '../src/service/errors.js';
import { OneoffInputError } from '../src/service/batch-jobs/errors.js';
import { HistoryNotFoundError } from '../src/cli/commands/history.js';

const config = () => new ConfigError('CONFIG_INVALID', [{ file: 'wavebatch.yaml', message: 'wrong' }]);
const source = () => new SourceError('SOURCE_NOT_FOUND', 'no data.jsonl');
const api = () => new GeminiApiError({ code: 'UNAVAILABLE', message: 'down', retryable: true });
const request = () => new RecordRequestError('a/1', 'no template');
const missing = () => new MissingContextError('a/2', 'a/1');

// Every class inherited the base class's check, which only asked whether the value was a wavebatch
// error: ConfigError.isInstance(a SourceError) was true, typed as a ConfigError.
describe('an error class’s isInstance', () => {
  it('is true for its own class and its subclasses, false for every other wavebatch error', () => {
    const all = { config, source, api, request, missing };
    const answers = (check: (value: unknown) => boolean) =>
      Object.entries(all).flatMap(([name, make]) => (check(make()) ? [name] : []));
    expect(answers((value) => ConfigError.isInstance(value))).toEqual(['config']);
    expect(answers((value) => SourceError.isInstance(value))).toEqual(['source']);
    expect(answers((value) => GeminiApiError.isInstance(value))).toEqual(['api']);
    expect(answers((value) => RecordRequestError.isInstance(value))).toEqual(['request', 'missing']);
    expect(answers((value) => MissingContextError.isInstance(value))).toEqual(['missing']);
    expect(answers((value) => WavebatchError.isInstance(value))).toEqual(Object.keys(all));
  });

  it('is false for anything that is not a wavebatch error, even of the same name', () => {
    class ConfigErrorLookalike extends Error {}
    Object.defineProperty(ConfigErrorLookalike, 'name', { value: 'ConfigError' });
    for (const value of [
      new ConfigErrorLookalike('x'),
      new Error('x'),
      { code: 'CONFIG_INVALID' },
      null,
      'x',
    ])
      expect(ConfigError.isInstance(value) || WavebatchError.isInstance(value)).toBe(false);
  });

  it('knows the errors of another copy of the module by their classes, as instanceof cannot', async () => {
    vi.resetModules();
    const copy = {
      ...(await import('../src/config/config-error.js')),
      ...(await import('../src/runner/record-request.js')),
      ...(await import('../src/workload/errors.js')),
    };
    expect(copy.ConfigError).not.toBe(ConfigError);
    const copied = new copy.ConfigError('CONFIG_INVALID', [{ file: 'wavebatch.yaml', message: 'wrong' }]);
    const copiedMissing = new copy.MissingContextError('a/2', 'a/1');
    const copiedSource = new copy.SourceError('SOURCE_NOT_FOUND', 'no data.jsonl');
    expect(copied instanceof ConfigError).toBe(false);
    expect(ConfigError.isInstance(copied)).toBe(true);
    expect(WavebatchError.isInstance(copied)).toBe(true);
    expect(RecordRequestError.isInstance(copiedMissing)).toBe(true);
    expect(MissingContextError.isInstance(copiedMissing)).toBe(true);
    expect(ConfigError.isInstance(copiedSource)).toBe(false);
    expect(copy.ConfigError.isInstance(config())).toBe(true);
    expect(copy.ConfigError.isInstance(source())).toBe(false);
  });
});

// Each class set its own name in its constructor, most of which did nothing else: the base class names it.
describe('an error’s name', () => {
  it('is its class’s, for a class that declares only its code', () => {
    class SampleError extends WavebatchError {
      readonly code = 'INPUT_SAMPLE';
    }
    const sample = new SampleError('bad sample', { cause: new Error('why') });
    expect([sample.name, sample.message, sample.code, sample.category]).toEqual([
      'SampleError',
      'bad sample',
      'INPUT_SAMPLE',
      'input',
    ]);
    expect(sample.cause).toEqual(new Error('why'));
    expect(String(sample)).toBe('SampleError: bad sample');
  });

  it('is its class’s for every wavebatch error, a subclass’s included', () => {
    const errors = [
      config(),
      source(),
      api(),
      request(),
      missing(),
      new ExportTargetError('x'),
      new OneoffInputError('x'),
      new HistoryNotFoundError('x'),
    ];
    expect(errors.map((error) => error.name)).toEqual(errors.map((error) => error.constructor.name));
    expect(missing().name).toBe('MissingContextError');
  });
});

// Two describeErrors disagreed (one named the cause, one cut the text, neither the code nor redacted),
// and two messageOfs and many inline expressions gave the bare message alone.
describe('describeError', () => {
  it("leads a wavebatch error's message with its code", () => {
    expect(describeError(source())).toBe('[SOURCE_NOT_FOUND] no data.jsonl');
    expect(describeErrorMessage(source())).toBe('no data.jsonl');
  });

  it("leads a Gemini API error's message with its code", () => {
    const quota = new GeminiApiError({
      code: 'QUOTA_EXHAUSTED',
      status: 429,
      retryable: true,
      message: 'Creating batch x failed (HTTP 429 RESOURCE_EXHAUSTED): Quota exceeded. Wait and retry.',
    });
    expect(describeError(quota)).toBe(
      '[QUOTA_EXHAUSTED] Creating batch x failed (HTTP 429 RESOURCE_EXHAUSTED): Quota exceeded. Wait and retry.',
    );
  });

  it('does not repeat a code the message names already', () => {
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
      code: 'ENOENT',
    });
    expect(describeError(missing)).toBe("ENOENT: no such file or directory, open '/x'");
    const invalid = Object.assign(new TypeError('The "path" argument must be a string'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    expect(describeError(invalid)).toBe('[ERR_INVALID_ARG_TYPE] The "path" argument must be a string');
  });

  it("gives an error's message, and its cause's when the cause is an error, described the same way", () => {
    expect(describeError(new Error('disk full'))).toBe('disk full');
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:4318');
    expect(describeError(new TypeError('fetch failed', { cause: refused }))).toBe(
      'fetch failed: connect ECONNREFUSED 127.0.0.1:4318',
    );
    expect(describeError(new Error('failed', { cause: 'a string' }))).toBe('failed');
    expect(describeError(new Error('Run stopped', { cause: source() }))).toBe(
      'Run stopped: [SOURCE_NOT_FOUND] no data.jsonl',
    );
  });

  it('does not repeat a cause the message already quotes', () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/x/report.md'"), {
      code: 'EACCES',
    });
    const unwritable = asUnwritablePath('/x/report.md', denied);
    expect(unwritable).toBeInstanceOf(UnwritablePathError);
    expect(describeError(unwritable)).toBe(`[${unwritable!.code}] ${unwritable!.message}`);
  });

  it("gives a wavebatch error's own message alone, which says what its cause adds", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/config.yaml'"), {
      code: 'ENOENT',
    });
    const seed = new SourceError('SOURCE_NOT_FOUND', 'seed config /x/config.yaml does not exist', {
      cause: enoent,
    });
    expect(describeError(seed)).toBe('[SOURCE_NOT_FOUND] seed config /x/config.yaml does not exist');
  });

  it('does not give again a cause whose first line the message quotes, cut', () => {
    const thrown = new RangeError(`${'long first line '.repeat(100)}\n  at the stack`);
    // A library's error quoting the first line of what it caught, cut (as a source function's does).
    const wrapped = new Error(`the callback failed: ${thrown.message.slice(0, 200)}…`, { cause: thrown });
    expect(describeError(wrapped)).toBe(wrapped.message);
  });

  it('ends on a chain of causes that loops back', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    Object.assign(first, { cause: second });
    expect(describeError(first)).toMatch(/^first: second: first: second: first$/);
  });

  it('gives anything else thrown as text, an object as its message or its JSON', () => {
    expect(describeError('plain')).toBe('plain');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError({ message: 'from a library' })).toBe('from a library');
    expect(describeError({ status: 'bad', retry: false })).toBe('{"status":"bad","retry":false}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toBe('[object Object]');
  });

  it('redacts an API key from the message, the cause and anything thrown', () => {
    const key = `AIza${'k'.repeat(35)}`;
    const texts = [
      describeError(new Error(`GET https://x/v1beta/models?key=${key} failed`)),
      describeError(new Error('fetch failed', { cause: new Error(`refused with key ${key}`) })),
      describeError(`bad key ${key}`),
      describeError({ message: `bad key ${key}` }),
    ];
    for (const text of texts) {
      expect(text).not.toContain(key);
      expect(text).toContain('[redacted]');
    }
  });

  it("cuts a message from outside to 4 kB, a wavebatch error's own to 8 kB, saying how large it was", () => {
    const page = `<html>${'x'.repeat(100_000)}</html>`;
    const outside = describeError(new Error(page));
    expect(Buffer.byteLength(outside)).toBeLessThan(MAX_SERVER_MESSAGE_BYTES + 100);
    expect(outside).toContain(`[truncated: ${page.length} bytes in all`);
    const own = describeError(new SourceError('SOURCE_NOT_FOUND', page));
    expect(Buffer.byteLength(own)).toBeGreaterThan(2 * MAX_SERVER_MESSAGE_BYTES - 100);
    expect(Buffer.byteLength(own)).toBeLessThan(2 * MAX_SERVER_MESSAGE_BYTES + 100);
  });
});
