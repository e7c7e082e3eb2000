import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

/** A book of two pages on an emulator of its own. */
function twoPageBook() {
  return useEmulatedWorkload({ emulator: { turnaroundMs: 20_000 }, workload: { books: 1, pages: 2 } });
}

// State and output folders in a bad shape are reported before anything is sent (the emulator's
// ledger stays empty), with the file named and what to do.
describe('a corrupt state store, or a file where a folder should be', () => {
  const env = { GEMINI_API_KEY: 'bad-state-test-key' };

  describe('a state file that is not a database', () => {
    const workload = twoPageBook();

    it('names a state file that is not a database and says what to do, changing nothing', async () => {
      const { root, configPath, emulator } = workload;
      mkdirSync(join(root, 'state'));
      const garbage = 'this is not a SQLite database, it was overwritten by mistake\n'.repeat(100);
      writeFileSync(join(root, 'state', 'state.db'), garbage);
      for (const command of [['run'], ['failures']]) {
        const result = await runCli([...command, '-c', configPath], { env });
        expect(result.code, command[0]).toBe(1);
        expect(result.stderr).toContain('[STORE_CORRUPT]');
        expect(result.stderr).toContain(
          `${join(root, 'state', 'state.db')} is not a readable SQLite database`,
        );
        expect(result.stderr).toContain('mv ');
        expect(result.stderr).toContain('wavebatch jobs');
        expect(result.stderr).not.toContain('SqliteError');
      }
      expect(readFileSync(join(root, 'state', 'state.db'), 'utf8')).toBe(garbage);
      expect(emulator.ledger.entries()).toHaveLength(0);
    });
  });

  describe("another program's SQLite database where the state store goes", () => {
    const workload = twoPageBook();

    // It failed with a bare "[SQLITE_ERROR] table records already exists", naming no file, after
    // switching the file to WAL.
    it('names the file as not a wavebatch store and leaves it byte for byte as it was', async () => {
      const { root, configPath, emulator } = workload;
      mkdirSync(join(root, 'state'));
      const path = join(root, 'state', 'state.db');
      const foreign = new Database(path);
      foreign.exec('CREATE TABLE records (x TEXT); INSERT INTO records VALUES (1);');
      foreign.close();
      const before = readFileSync(path);
      for (const command of [['run'], ['status']]) {
        const result = await runCli([...command, '-c', configPath], { env });
        expect(result.code, command[0]).toBe(1);
        expect(result.stderr).toBe(
          `error [STORE_SCHEMA]: The file ${path} is an SQLite database, but not a wavebatch state store (its tables: records; no wavebatch schema version); wavebatch left it as it is. Set data_dir to a folder of its own, or move the file away.\n`,
        );
      }
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(emulator.ledger.entries()).toHaveLength(0);
    });
  });

  describe('data_dir or outputs that is a file', () => {
    const workload = twoPageBook();

    it('refuses data_dir or outputs that is a file (or below one) before sending anything', async () => {
      const { root, configPath, emulator } = workload;
      writeFileSync(join(root, 'out'), 'a file named like the outputs folder');
      const outputs = await runCli(['run', '-c', configPath], { env });
      expect(outputs.code).toBe(2);
      expect(outputs.stderr).toContain('[CONFIG_PATH_NOT_FOLDER]');
      expect(outputs.stderr).toMatch(/line \d+: outputs: "out" is a file, not a folder/);
      rmSync(join(root, 'out'));

      writeFileSync(join(root, 'state'), 'a file where the data dir goes');
      const yaml = readFileSync(configPath, 'utf8').replace('data_dir: state', 'data_dir: state/inner');
      writeFileSync(configPath, yaml);
      const dataDir = await runCli(['run', '-c', configPath], { env });
      expect(dataDir.code).toBe(2);
      expect(dataDir.stderr).toContain(
        `data_dir: "state/inner" cannot be a folder: ${join(root, 'state')} is a file`,
      );
      expect(emulator.ledger.entries()).toHaveLength(0);
    });
  });
});
