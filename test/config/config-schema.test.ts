import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema, defineWorkload } from '../../src/config/index.js';

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
    expect(parsed.source).toEqual({ type: 'jsonl', path: 'rows.jsonl', id_field: 'id' });
  });
});
