import { describe, expect, it } from 'vitest';
import { exposureWarning } from '../../src/cli/commands/emulator.js';
import { runCli } from '../fixtures/cli.js';

// The emulator checks no key and its /_emulator/* routes show every prompt: listening beyond the
// loopback interface deserves a warning.
describe('wavebatch emulator --host', () => {
  it('warns for any interface other machines can reach, not for loopback ones', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'gemini.internal'])
      expect(exposureWarning(host), host).toContain('/_emulator/*');
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost'])
      expect(exposureWarning(host), host).toBeUndefined();
  });

  it('prints the warning when it starts on such a host', async () => {
    // 203.0.113.1 (TEST-NET-3) belongs to no machine: the bind fails, so nothing is ever exposed.
    const result = await runCli(['emulator', '--host', '203.0.113.1', '--port', '0']);
    expect(result.stderr).toContain(
      'warning: --host 203.0.113.1 makes the emulator reachable from other machines',
    );
    expect(result.stderr).toContain('shows every prompt');
    expect(result.code).not.toBe(0);
  });
});
