import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { WorkloadService } from '../../src/service/index.js';
import { useJsonlSource, writeCatalogWorkload } from '../fixtures/catalog-workload.js';

// A table source's data file is one file, not a folder: `export -o rows.jsonl` replaced it, and the
// next sync read the export as the source.
describe('an export next to a table source', () => {
  let root: string;
  let service: WorkloadService;
  const row = { id: 'a1', book: 'a', page: 1, school: 'A' };

  beforeAll(async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 1 });
    root = workload.root;
    useJsonlSource(workload.configPath, [row]);
    service = WorkloadService.open(await loadConfig(workload.configPath, {}));
  });

  afterAll(async () => {
    await service.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses the data file and writes beside it', async () => {
    await expect(service.openExportFile(join(root, 'rows.jsonl'))).rejects.toMatchObject({
      code: 'INPUT_EXPORT_TARGET',
      message: expect.stringContaining('is the source file') as unknown,
    });
    expect(readFileSync(join(root, 'rows.jsonl'), 'utf8')).toBe(`${JSON.stringify(row)}\n`);
    const beside = await service.openExportFile(join(root, 'export.jsonl'));
    beside.end('{}\n');
    await finished(beside);
    expect(readFileSync(join(root, 'export.jsonl'), 'utf8')).toBe('{}\n');
  });
});
