import { describe, expect, it } from 'vitest';
import { startCli } from '../fixtures/cli.js';

/** Long enough for a command that fails at once on a loaded machine; a spinning mkdir never ends. */
const BOUND_MS = 30_000;

// Node's recursive mkdir loops forever on a path the kernel refuses with ENOENT though its parent
// exists (/proc/x): `fetch -o /proc/x` and `init /proc/x` spun at full CPU instead of failing.
describe('a command told to write into a folder that cannot be made', () => {
  it.each([
    ['fetch', ['fetch', '--all-pending', '-o', '/proc/x/results']],
    ['init', ['init', '/proc/x/workload', '-y']],
  ])(
    '%s fails at once naming it',
    async (_name, args) => {
      const run = startCli(args, {
        env: { GEMINI_API_KEY: 'unmakeable-test-key', WAVEBATCH_BASE_URL: 'http://127.0.0.1:9' },
      });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
      const result = await run.result.finally(() => clearTimeout(timer));
      expect(result.code, `${result.stderr} (killed after ${BOUND_MS} ms: spinning)`).not.toBeNull();
      // A path the user gave that cannot be written is input, exit 2, as an export's -o is.
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('error [INPUT_PATH_UNWRITABLE]: Cannot write to /proc/x');
      expect(result.stderr).toContain("mkdir '/proc/x");
    },
    BOUND_MS + 10_000,
  );
});
