import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ClientApiKeyError,
  createGeminiClient,
  startEmulator,
  type RunningEmulator,
} from '../../src/index.js';
import { REPO } from '../package/installed-package.js';

/** Runs a module with the given environment (none of this process's keys) and returns what it wrote. */
function runWith(env: Record<string, string>, code: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', () => resolve({ stdout, stderr }));
  });
}

// The SDK reads its own environment variables whatever it is given: with both keys set it printed
// "Both GOOGLE_API_KEY and GEMINI_API_KEY are set. Using GOOGLE_API_KEY." for every client (the
// library must not print, and wavebatch uses GEMINI_API_KEY first), GOOGLE_GENAI_USE_VERTEXAI=true
// sent every call to Vertex AI's paths (a 404 from the Gemini API), and with no key it printed a
// warning and asked the cloud metadata server for credentials.
describe('the Gemini client, in an environment set up for the SDK', () => {
  let emulator: RunningEmulator;
  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 2 });
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('prints nothing and talks to the Gemini API at its base URL, whatever GOOGLE_API_KEY and GOOGLE_GENAI_USE_VERTEXAI say', async () => {
    const entry = join(REPO, 'src', 'index.ts');
    const { stdout, stderr } = await runWith(
      {
        GEMINI_API_KEY: 'AIza-gemini-env-key-0001',
        GOOGLE_API_KEY: 'AIza-google-env-key-0002',
        GOOGLE_GENAI_USE_VERTEXAI: 'true',
      },
      `const { createGeminiClient } = await import(${JSON.stringify(entry)});
const client = createGeminiClient({ apiKey: 'AIza-given-key-0003', baseUrl: ${JSON.stringify(emulator.url)} });
const job = await client.createBatch({ model: 'gemini-2.5-flash', displayName: 'env', source: { requests: [{ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], metadata: { key: 'k' } }] } });
let names = [];
for await (const listed of client.listBatches()) names.push(listed.name);
process.stdout.write(JSON.stringify({ created: job.name.startsWith('batches/'), listed: names.length }));`,
    );
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({ created: true, listed: 1 });
  }, 60_000);

  it('refuses an empty or missing key by its code, before the SDK looks for other credentials', () => {
    for (const apiKey of ['', '  ', undefined as unknown as string]) {
      const refused = (() => {
        try {
          createGeminiClient({ apiKey, baseUrl: emulator.url });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused).toBeInstanceOf(ClientApiKeyError);
      expect(refused).toMatchObject({ code: 'API_KEY_MISSING', category: 'input' });
    }
  });
});
