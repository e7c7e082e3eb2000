import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { WorkloadService } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';

// A table source's data file is one file, not a folder: `export -o rows.jsonl` replaced it, and the
// next sync read the export as the source.
describe('an export next to a table source', () => {
  let root: string;
  let service: WorkloadService;
  const row = `${JSON.stringify({ id: 'a1', book: 'a', page: 1, school: 'A' })}\n`;

  beforeAll(async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 1 });
    root = workload.root;
    writeFileSync(
      workload.configPath,
      readFileSync(workload.configPath, 'utf8').replace(
        /source:\n( {2}.*\n)+/,
        'source:\n  type: jsonl\n  path: rows.jsonl\n  chain_field: book\n',
      ),
    );
    writeFileSync(join(root, 'rows.jsonl'), row);
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
    expect(readFileSync(join(root, 'rows.jsonl'), 'utf8')).toBe(row);
    const beside = await service.openExportFile(join(root, 'export.jsonl'));
    beside.end('{}\n');
    await finished(beside);
    expect(readFileSync(join(root, 'export.jsonl'), 'utf8')).toBe('{}\n');
  });
});
