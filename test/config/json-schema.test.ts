import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchema } from '../../src/config/json-schema.js';
import { starterFiles } from '../../src/scaffold/index.js';
import { catalogConfigYaml } from '../fixtures/catalog-workload.js';

const ROOT = new URL('../../', import.meta.url);
const published = JSON.parse(readFileSync(new URL(CONFIG_JSON_SCHEMA_PATH, ROOT), 'utf8')) as object;
const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(published);

describe('the published JSON Schema of wavebatch.yaml', () => {
  it('is what the zod config schema generates (run `npm run schema` after changing the config)', () => {
    expect(published).toEqual(configJsonSchema());
  });

  it('accepts the example, the starter configs and the test fixture config', () => {
    const example = readFileSync(fileURLToPath(new URL('examples/catalogs/wavebatch.yaml', ROOT)), 'utf8');
    expect(example.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schema/wavebatch.schema.json');
    const configs = [
      example,
      ...(['directory', 'jsonl'] as const).map(
        (source) =>
          starterFiles({
            name: 'w',
            source,
            model: 'gemini-2.5-flash',
            schemaRef: 'x',
            baseUrl: 'http://h:1',
          }).find((file) => file.path === 'wavebatch.yaml')?.content ?? '',
      ),
      catalogConfigYaml('t', { max_retries: 2, poll_interval: '20ms' }).join('\n'),
    ];
    for (const text of configs) {
      expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('refuses unknown keys, a missing source and TypeScript-only hooks, as the loader does', () => {
    const base = parse(catalogConfigYaml('t', {}).join('\n')) as Record<string, unknown>;
    expect(validate({ ...base, extra: 1 })).toBe(false);
    const { source: _source, ...withoutSource } = base;
    expect(validate(withoutSource)).toBe(false);
    expect(validate({ ...base, hooks: {} })).toBe(false);
    expect(validate({ ...base, source: { type: 'function' } })).toBe(false);
  });
});
