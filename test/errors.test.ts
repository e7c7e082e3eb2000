import { describe, expect, it, vi } from 'vitest';
import { describeError, WavebatchError } from '../src/errors.js';
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

// The telemetry sinks each had a copy of this; only Braintrust's named the cause.
describe('describeError', () => {
  it("gives an error's message, and its cause's when the cause is an error", () => {
    expect(describeError(new Error('disk full'))).toBe('disk full');
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:4318');
    expect(describeError(new TypeError('fetch failed', { cause: refused }))).toBe(
      'fetch failed: connect ECONNREFUSED 127.0.0.1:4318',
    );
    expect(describeError(new Error('failed', { cause: 'a string' }))).toBe('failed');
  });

  it('does not repeat a cause the message already quotes', () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/x/report.md'"), {
      code: 'EACCES',
    });
    const unwritable = asUnwritablePath('/x/report.md', denied);
    expect(unwritable).toBeInstanceOf(UnwritablePathError);
    expect(describeError(unwritable)).toBe(unwritable?.message);
  });

  it('gives anything else thrown as text', () => {
    expect(describeError('plain')).toBe('plain');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });
});
