import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openSource, RecordIdError } from '../../src/workload/index.js';
import type { WorkloadRecord } from '../../src/workload/record.js';
import { failure, makeTempFolder, type TempFolder } from './temp-folder.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
// The config lives in a temp folder with no node_modules, so it imports by absolute URL.
const configModule = pathToFileURL(join(repoRoot, 'src/config/index.ts')).href;
const zodModule = pathToFileURL(join(repoRoot, 'node_modules/zod/index.js')).href;

async function collect(source: AsyncIterable<WorkloadRecord>): Promise<WorkloadRecord[]> {
  const records: WorkloadRecord[] = [];
  for await (const record of source) records.push(record);
  return records;
}

describe('loadConfig (TypeScript / JavaScript)', () => {
  let folder: TempFolder;
  beforeAll(() => {
    folder = makeTempFolder();
    folder.write('prompts/page/v1.jinja', 'x');
  });
  afterAll(() => folder.remove());

  it('loads defineWorkload with a function source, a zod response schema and an extractContext hook', async () => {
    const path = folder.write(
      'wavebatch.ts',
      `import { defineWorkload } from '${configModule}';
import { z } from '${zodModule}';
import type { WorkloadRecord } from '${configModule.replace('config/index.ts', 'workload/record.ts')}';

async function* pages(): AsyncIterable<WorkloadRecord> {
  for (const page of [1, 2]) yield { id: \`book/page_\${page}\`, chainId: 'book', position: page, vars: { page }, media: [] };
}

export default defineWorkload({
  name: 'ts-workload',
  source: { type: 'function', records: pages },
  prompt: { name: 'page', version: 'v1' },
  model: { name: 'gemini-2.5-flash', response_schema: z.object({ courses: z.array(z.string()), carry_over: z.string() }) },
  hooks: { extractContext: (output: unknown) => (output as { carry_over?: string }).carry_over ?? null },
  execution: { poll_interval: '5s', max_retries: 1 },
});
`,
    );
    const config = await loadConfig(path, { GOOGLE_API_KEY: 'k' });
    expect(config.name).toBe('ts-workload');
    expect(config.apiKey).toBe('k');
    expect(config.execution).toMatchObject({ poll_interval: 5000, max_retries: 1, max_concurrent_jobs: 10 });
    expect(config.prompt.dir).toBe(folder.path('prompts'));
    expect(config.model.response_schema).toEqual({
      type: 'object',
      properties: { courses: { type: 'array', items: { type: 'string' } }, carry_over: { type: 'string' } },
      required: ['courses', 'carry_over'],
      additionalProperties: false,
    });
    expect(config.hooks?.extractContext?.({ carry_over: 'Latin 101', courses: [] })).toBe('Latin 101');
    const records = await collect(openSource(config));
    expect(records.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['book/page_1', 'book', 1],
      ['book/page_2', 'book', 2],
    ]);
  });

  it('takes hooks.source instead of source, and checks the ids it yields', async () => {
    const path = folder.write(
      'hook-source.mts',
      `export default {
  name: 'hooked',
  prompt: { name: 'page', version: 'v1' },
  model: { name: 'm' },
  hooks: {
    source: async function* () {
      yield { id: 'fine', chainId: 'fine', position: 0, vars: {}, media: [{ path: 'scan.png', mimeType: 'image/png' }] };
      yield { id: '../etc/passwd', chainId: 'x', position: 0, vars: {}, media: [] };
    },
  },
};
`,
    );
    const config = await loadConfig(path, {});
    expect(config.source.type).toBe('function');
    const iterator = openSource(config)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({
      id: 'fine',
      media: [{ path: folder.path('scan.png'), mimeType: 'image/png' }],
    });
    const error = await iterator.next().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(RecordIdError);
    expect((error as RecordIdError).message).toContain('"../etc/passwd" from the source function (record 2)');
  });

  it('loads a plain JavaScript config with a table source', async () => {
    folder.write('rows.jsonl', '{"id":"r1"}\n');
    const path = folder.write(
      'wavebatch.mjs',
      "export default { name: 'js', source: { type: 'jsonl', path: 'rows.jsonl' }, prompt: { name: 'page', version: 'v1' }, model: { name: 'm' } };\n",
    );
    const config = await loadConfig(path, {});
    expect(config.source).toEqual({
      type: 'jsonl',
      path: folder.path('rows.jsonl'),
      id_field: 'id',
      max_record_bytes: 64_000_000,
    });
    expect((await collect(openSource(config))).map((record) => record.id)).toEqual(['r1']);
  });

  it('validates a module config with the same schema, naming keys (there are no lines)', async () => {
    const path = folder.write(
      'invalid.mjs',
      "export default { name: 'js', source: { type: 'function', records: 'not a function' }, prompt: { name: 'page', version: 'v1' }, model: { name: 'm', apiKey: 'sk-secret-value' }, execution: { max_retries: 'lots' } };\n",
    );
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.map((issue) => issue.key).sort()).toEqual([
      'execution.max_retries',
      'model.apiKey',
      'source.records',
    ]);
    expect(error.issues.every((issue) => issue.line === undefined)).toBe(true);
    expect(error.message).toContain('invalid.mjs: source.records: expected a function');
    expect(error.message).not.toContain('sk-secret-value');
  });

  it('reports a config that throws while importing, and one without a default export', async () => {
    const throwing = await failure(
      folder.write('throws.mts', "throw new Error('boom at import');\nexport default {};\n"),
    );
    expect(throwing.code).toBe('CONFIG_IMPORT_FAILED');
    expect(throwing.message).toContain('boom at import');
    // Node's code names what went wrong (a package not installed): the message quoted Node's words alone.
    const missing = await failure(
      folder.write('missing.mjs', "import 'wavebatch-no-such-package';\nexport default {};\n"),
    );
    expect(missing.code).toBe('CONFIG_IMPORT_FAILED');
    expect(missing.message).toContain(
      "could not be imported: [ERR_MODULE_NOT_FOUND] Cannot find package 'wavebatch-no-such-package'",
    );
    const empty = await failure(folder.write('empty.mjs', 'export const name = 1;\n'));
    expect(empty.code).toBe('CONFIG_INVALID');
    expect(empty.message).toContain('export default defineWorkload');
  });

  it('rejects a zod schema that has no JSON Schema equivalent', async () => {
    const path = folder.write(
      'dated.ts',
      `import { z } from '${zodModule}';
export default { name: 'dated', source: { type: 'function', records: async function* () {} }, prompt: { name: 'page', version: 'v1' }, model: { name: 'm', response_schema: z.object({ at: z.date() }) } };
`,
    );
    const error = await failure(path);
    expect(error.key).toBe('model.response_schema');
    expect(error.message).toContain('no JSON Schema equivalent');
  });
});
