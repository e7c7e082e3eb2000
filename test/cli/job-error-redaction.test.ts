import { describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A FAILED job's error message as the API sent it can quote a key back: `status <job>` redacted it
// in text, but `status <job> --json` and `jobs --json` printed it whole.
const QUOTED_KEY = `AIza${'Qz7'.repeat(12).slice(0, 35)}`;

describe('a job error quoting a key', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 0, seed: 5 },
    workload: { books: 1, pages: 1 },
  });

  it('is redacted by jobs --json and status <job> --json', async () => {
    const { emulator, env } = workload;
    emulator.setFaults({
      jobRates: { failed: 1 },
      jobFailureMessage: `request with key=${QUOTED_KEY} failed`,
    });
    expect((await workload.cli(['run-once'])).code).toBe(0);
    const listed = await runCli(['jobs', '--json', '--base-url', emulator.url], { env });
    expect(listed.code).toBe(0);
    const jobs = JSON.parse(listed.stdout) as Array<{ name: string; state: string }>;
    const failed = jobs.find((job) => job.state === 'failed');
    expect(listed.stdout).not.toContain(QUOTED_KEY);
    const shown = await runCli(['status', failed?.name ?? 'none', '--json', '--base-url', emulator.url], {
      env,
    });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('[redacted]');
    expect(shown.stdout).not.toContain(QUOTED_KEY);
  });
});
