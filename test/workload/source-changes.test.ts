import { appendFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource, SourceError } from '../../src/workload/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { collect, configWithSource } from './source-config.js';

// A data file written to while the sync reads it: a row cut mid-write (`d,12` of `d,123`) reads as
// a whole one, and was synced and sent as such.
describe('table sources: a data file that changes while it is read', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder('wb-changes-');
  });
  afterEach(() => folder.remove());

  it.each([
    ['csv', 'id,n\na,1\nb,2\nc,3\n', 'd,12'],
    ['jsonl', '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n', '{"id":"d"}\n'],
  ])(
    '%s: appended to during the read is refused by name, and read in full once it is left alone',
    async (type, rows, more) => {
      const path = folder.write(`rows.${type}`, rows);
      const config = await configWithSource(folder, [`type: ${type}`, `path: rows.${type}`]);
      const reading = openSource(config)[Symbol.asyncIterator]();
      expect((await reading.next()).value?.id).toBe('a');
      appendFileSync(path, more);
      const error = await collect({ [Symbol.asyncIterator]: () => reading }).catch(
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).code).toBe('SOURCE_CHANGED');
      expect((error as SourceError).message).toContain(`${path} changed while it was read (`);

      const again = await collect(openSource(config));
      expect(again.map((record) => record.id)).toEqual(['a', 'b', 'c', 'd']);
    },
  );
});
