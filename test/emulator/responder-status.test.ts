import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';

// Every Google error travels with HTTP status = error.code. A responder's 429 or 503 came back as
// HTTP 500, so a test of quota or overload handling exercised the handling of a server fault.
describe("a responder's error on generateContent", () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED', 429],
    [503, 'UNAVAILABLE', 503],
    [404, 'NOT_FOUND', 404],
    [999, 'UNKNOWN', 500],
  ])('code %i (%s) is answered with HTTP %i', async (code, status, http) => {
    emulator = await startEmulator({
      responder: () => ({ error: { code, status, message: 'from the responder' } }),
    });
    const answer = await fetch(`${emulator.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'responder-status-key' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(answer.status).toBe(http);
    expect(await answer.json()).toEqual({ error: { code, status, message: 'from the responder' } });
  });
});
