import { describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../src/gemini/index.js';
import { ApiUnreachableError, ConnectionWatch, watchedGenerate } from '../../src/runner/connection-watch.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { closedPort } from '../fixtures/closed-port.js';

const REQUEST = { contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] };

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, sleep: async () => undefined, advance: (ms: number) => (now += ms) };
}

describe('the reachability watch of the synchronous lanes', () => {
  const sandbox = emulatorSandbox();

  it('does not count a call the lane gave up on (its own timeout) as an unreachable API; a refused connection counts', async () => {
    // Flex answers after 30 emulated minutes: the call is still waiting when the lane gives up.
    const emulator = await sandbox.startEmulator({
      timeScale: 1,
      tiers: { flex: { latencyMs: 30 * 60_000 } },
    });
    const clock = manualClock();
    const watch = new ConnectionWatch(clock, emulator.url, 60_000);
    const slow = watchedGenerate(createGeminiClient({ apiKey: 'watch-key', baseUrl: emulator.url }), watch);
    await expect(
      slow.generateContent('gemini-2.5-flash', REQUEST, {
        serviceTier: 'flex',
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toMatchObject({ code: 'NETWORK' });
    clock.advance(10 * 60_000);
    expect(() => watch.check()).not.toThrow();

    const refused = watchedGenerate(
      createGeminiClient({ apiKey: 'watch-key', baseUrl: `http://127.0.0.1:${await closedPort()}` }),
      watch,
    );
    await expect(refused.generateContent('gemini-2.5-flash', REQUEST)).rejects.toMatchObject({
      code: 'NETWORK',
    });
    clock.advance(59_000);
    expect(() => watch.check()).not.toThrow();
    clock.advance(1_000);
    expect(() => watch.check()).toThrow(ApiUnreachableError);
    // Its advice once: the cause says to check the network and the base URL, and it said so again.
    const message = (() => {
      try {
        watch.check();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message.match(/check the network/gi)).toHaveLength(1);
    expect(message).toContain('raise execution.give_up_after to wait longer');
  });
});
