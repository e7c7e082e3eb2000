import { describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';

/** Help text with its line wrapping undone, so a phrase reads whole wherever commander broke it. */
async function help(args: string[]): Promise<string> {
  const result = await runCli([...args, '--help'], { env: { COLUMNS: '200' } });
  expect(result.code).toBe(0);
  return result.stdout.replace(/\s+/g, ' ');
}

// `--help` against the README: each command's help says what the command does, as the manual does.
describe('--help agrees with the README', () => {
  it("config check's -q prints errors, as the README says (its help said nothing was printed)", async () => {
    const text = await help(['config', 'check']);
    expect(text).toContain(
      '-q, --quiet print nothing but errors; the exit code says whether the config is valid',
    );
  });

  it('the command list names every export format (assembled was left out), and init names its default once', async () => {
    const text = await help([]);
    expect(text).toMatch(/export \[options\] Export the outputs: .*a document per chain \(assembled\)/);
    const init = await help(['init']);
    expect(init).toContain('dir folder to create it in (default: the current folder) Options:');
  });
});
