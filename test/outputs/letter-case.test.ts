import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesSink, OutputPathClashError, RecordIdCaseClashError } from '../../src/outputs/index.js';
import { ignoresLetterCase } from '../../src/outputs/letter-case.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

// macOS and Windows keep `Page1.json` and `page1.json` as one file by default: one record's output
// would overwrite the other's, and the other would be sent (and paid for) again at every run. This
// machine's disks tell case apart, so the case-blind folder is the sink's probe answering yes; the
// probe itself is run for real below.
describe('ids on an output folder that ignores letter case', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-letter-case-'));
    store = new SqliteStore({ path: join(dir, 'state.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function storeIds(ids: string[]): Promise<void> {
    async function* records() {
      for (const id of ids) yield { id, chainId: id, position: 0, vars: {}, media: [] };
    }
    await store.syncRecords(() => records());
  }

  function caseBlindSink(): FilesSink {
    return new FilesSink(join(dir, 'out'), store, { ignoresLetterCase: async () => true });
  }

  it('stops the sync naming every group of ids equal but for case (RECORD_ID_CASE_CLASH)', async () => {
    await storeIds(['Page1', 'other', 'book/PAGE1', 'page1', 'PAGE1', 'book/page1', 'page2']);
    const refusal = await caseBlindSink()
      .recover()
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RecordIdCaseClashError);
    const error = refusal as RecordIdCaseClashError;
    expect(error.code).toBe('RECORD_ID_CASE_CLASH');
    expect(error.category).toBe('input');
    expect(error.groups).toEqual([
      ['book/PAGE1', 'book/page1'],
      ['PAGE1', 'Page1', 'page1'],
    ]);
    expect(error.message).toContain('"book/PAGE1" and "book/page1"; "PAGE1" and "Page1" and "page1"');
    expect(error.message).toContain('sink: jsonl');
    // The refusal came before any work: no output was written.
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('names ten groups and counts the rest', async () => {
    await storeIds(Array.from({ length: 12 }, (_, index) => [`P${index}`, `p${index}`]).flat());
    const error = (await caseBlindSink()
      .recover()
      .catch((caught: unknown) => caught)) as RecordIdCaseClashError;
    expect(error.groups).toHaveLength(10);
    expect(error.message).toContain('; and 2 more.');
  });

  it('finds a file and a folder that clash only case-blind (A and a.JSON/b, RECORD_ID_CLASH)', async () => {
    await storeIds(['x/A', 'x/b', 'x/a.JSON/b']);
    const refusal = await caseBlindSink()
      .recover()
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(OutputPathClashError);
    expect((refusal as Error).message).toContain('"x/A" and "x/a.JSON/b"');
  });

  it('lets ids that differ by more than case through', async () => {
    await storeIds(['Page1', 'Page2', 'page3', 'a.json.x/b', 'a']);
    expect(await caseBlindSink().recover()).toEqual({ markedDone: 0, reopened: 0 });
  });

  it('on a folder that tells case apart, keeps ids equal but for case (this disk)', async () => {
    const before = readdirSync(dir);
    expect(await ignoresLetterCase(dir)).toBe(false);
    // A folder not made yet is judged where it will be made, and is not made.
    expect(await ignoresLetterCase(join(dir, 'not', 'yet'))).toBe(false);
    // The probe leaves nothing behind.
    expect(readdirSync(dir)).toEqual(before);
    // A folder nothing can be created in cannot be probed: taken as telling case apart, as before.
    if (existsSync('/proc/self')) expect(await ignoresLetterCase('/proc/self/outputs')).toBe(false);
    await storeIds(['Page1', 'page1']);
    expect(await new FilesSink(join(dir, 'out'), store).recover()).toEqual({ markedDone: 0, reopened: 0 });
  });
});
