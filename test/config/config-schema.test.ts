import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema, defineWorkload } from '../../src/config/index.js';

/** The smallest config the schema takes: every key not given takes its default. */
const base = {
  name: 'm',
  source: { type: 'jsonl', path: 'r.jsonl' },
  prompt: { name: 'p', version: 'v1' },
  model: { name: 'm' },
} as const;

describe('configSchema', () => {
  it('documents every key: it converts to a JSON Schema (for editors) with descriptions and defaults', () => {
    const jsonSchema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<
        string,
        { description?: string; properties?: Record<string, { description?: string; default?: unknown }> }
      >;
    };
    for (const [key, property] of Object.entries(jsonSchema.properties))
      expect(property.description, key).toBeTruthy();
    const execution = jsonSchema.properties.execution?.properties ?? {};
    for (const [key, property] of Object.entries(execution))
      expect(property.description, `execution.${key}`).toBeTruthy();
    expect(execution.max_retries?.default).toBe(3);
  });

  it('parses a minimal definition with defaults, and defineWorkload returns what it is given', () => {
    const definition = defineWorkload({
      name: 'minimal',
      source: { type: 'jsonl', path: 'rows.jsonl' },
      prompt: { name: 'p', version: 'v1' },
      model: { name: 'm' },
    });
    const parsed = configSchema.parse(definition);
    expect(defineWorkload(definition)).toBe(definition);
    expect(parsed).toMatchObject({
      data_dir: '.wavebatch',
      outputs: 'out',
      prompt: { dir: 'prompts' },
      api: {},
    });
    expect(parsed.source).toEqual({
      type: 'jsonl',
      path: 'rows.jsonl',
      id_field: 'id',
      max_record_bytes: 64_000_000,
    });
  });

  it('defaults execution.media_upload_bytes to 4 MB, accepts 0 (upload all) and rejects a negative size', () => {
    expect(configSchema.parse(base).execution.media_upload_bytes).toBe(4_000_000);
    expect(
      configSchema.parse({ ...base, execution: { media_upload_bytes: 0 } }).execution.media_upload_bytes,
    ).toBe(0);
    const bad = configSchema.safeParse({ ...base, execution: { media_upload_bytes: -1 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['execution', 'media_upload_bytes']);
  });

  it('reads the lane keys: mode (default batch), sync_concurrency, deadline as a duration or an ISO time, max_cost', () => {
    const defaults = configSchema.parse(base).execution;
    expect(defaults).toMatchObject({ mode: 'batch', sync_concurrency: 32 });
    expect(defaults.deadline).toBeUndefined();
    expect(defaults.max_cost).toBeUndefined();
    const set = configSchema.parse({
      ...base,
      execution: { mode: 'auto', sync_concurrency: 4, deadline: '6h', max_cost: 12.5 },
    }).execution;
    expect(set).toMatchObject({
      mode: 'auto',
      sync_concurrency: 4,
      deadline: { afterMs: 21_600_000 },
      max_cost: 12.5,
    });
    const at = configSchema.parse({ ...base, execution: { deadline: '2026-05-01T09:00:00Z' } }).execution;
    expect(at.deadline).toEqual({ at: Date.parse('2026-05-01T09:00:00Z') });
    for (const [key, value] of [
      ['mode', 'fast'],
      ['deadline', 'soon'],
      ['max_cost', 0],
      ['sync_concurrency', 0],
    ] as const) {
      const bad = configSchema.safeParse({ ...base, execution: { [key]: value } });
      expect(bad.error?.issues[0]?.path, key).toEqual(['execution', key]);
    }
  });
});
