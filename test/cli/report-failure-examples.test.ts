import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { echoingWorkload } from '../fixtures/echoed-secrets.js';
import { runCli } from '../fixtures/cli.js';

// The API's message is longer than a failure's message quotes of it (classification cuts it once,
// at 300 characters). The run report cut each example's message again, at 240 characters: the
// label and the end of the quote were lost, and the example said less than `wavebatch log`.
describe("the run report's failure examples", () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'report-failure-examples-key' };

  beforeAll(async () => {
    ({ emulator, root, configPath } = await echoingWorkload(
      { max_retries: 0, poll_interval: 20 },
      `The backend could not finish the request: ${'it was busy, '.repeat(60)}try again later.`,
    ));
    expect((await runCli(['run', '-c', configPath], { env })).code).toBe(3);
  }, 60_000);

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('quote each failure as the inference log keeps it, cut once where it was made', async () => {
    const logged = await runCli(['log', '--json', '--cause', 'api_error', '-c', configPath], { env });
    const messages = logged.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages.length).toBeGreaterThan(0);
    const report = await runCli(['report', '-c', configPath], { env });
    expect(report.code).toBe(0);
    for (const message of messages) {
      expect(message).toContain('it was busy');
      expect(report.stdout).toContain(`: ${message.replace(/\s+/g, ' ').trim()}\n`);
    }
  });
});
