import { FunctionCallingConfigMode, JobState, type GenerateContentConfig } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, pollUntilDone, refusalOf, sdkFor } from './harness.js';

/** Function declarations and JSON output together, as a tool-using agent asks for structured output. */
const TOOLS_AND_JSON: GenerateContentConfig = {
  responseMimeType: 'application/json',
  tools: [{ functionDeclarations: [{ name: 'lookup', description: 'Looks a colour up.' }] }],
};

/** Google's answer on Gemini 2.x (ai-blog-generator#16 and #17, adk-python#5735, symfony/ai#1777). */
const UNSUPPORTED = "Function calling with a response mime type: 'application/json' is unsupported";

// Gemini 2.x refuses function declarations beside responseMimeType application/json unless function
// calling is off (mode NONE); the emulator answered such requests as if the tools were not there.
describe('the emulator refuses function calling with JSON output on Gemini 2.x, as Google does', () => {
  const sandbox = emulatorSandbox();

  it('generateContent: 400 INVALID_ARGUMENT, unbilled; mode NONE and Gemini 3 are answered', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    for (const model of ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite', 'gemini-2.0-flash']) {
      expect(
        await refusalOf(
          ai.models.generateContent({ model, contents: 'Name a colour.', config: TOOLS_AND_JSON }),
        ),
      ).toEqual({
        status: 400,
        body: { error: { code: 400, message: UNSUPPORTED, status: 'INVALID_ARGUMENT' } },
      });
    }
    expect(emulator.ledger.entries()).toEqual([]);

    const off = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Name a colour.',
      config: {
        ...TOOLS_AND_JSON,
        toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } },
      },
    });
    expect(off.candidates?.[0]?.finishReason).toBe('STOP');
    const gemini3 = await ai.models.generateContent({
      model: 'gemini-3-flash-preview',
      contents: 'Name a colour.',
      config: TOOLS_AND_JSON,
    });
    expect(gemini3.candidates?.[0]?.finishReason).toBe('STOP');
    // JSON output alone, and tools alone, were never refused.
    await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Name a colour.',
      config: { responseMimeType: 'application/json' },
    });
    await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Name a colour.',
      config: { tools: TOOLS_AND_JSON.tools ?? [] },
    });
    expect(emulator.ledger.entries()).toHaveLength(4);
  });

  it("batch: that request's error row (gRPC 3), unbilled, the job SUCCEEDED and the rest answered", async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1_000_000, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const job = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [
        { contents: 'Name a colour.', metadata: { key: 'plain' } },
        { contents: 'Name a colour.', config: TOOLS_AND_JSON, metadata: { key: 'tools' } },
      ],
    });
    await pollUntilDone(emulator, job.name ?? '');
    const done = await ai.batches.get({ name: job.name ?? '' });
    expect(done.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const byKey = new Map(
      (done.dest?.inlinedResponses ?? []).map((item) => [String(item.metadata?.key), item]),
    );
    expect(byKey.get('tools')?.error).toEqual({ code: 3, message: UNSUPPORTED });
    expect(byKey.get('plain')?.response?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['plain']);
  });
});
