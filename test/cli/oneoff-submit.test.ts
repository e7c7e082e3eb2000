import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchCommand } from '../../src/cli/commands/fetch.js';
import { jobsCommand } from '../../src/cli/commands/jobs.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { AUTO_INLINE_MAX_BYTES, submitCommand } from '../../src/cli/commands/submit.js';
import type { WireGenerateRequest } from '../../src/emulator/index.js';
import { rawGet } from '../emulator/harness.js';
import { oneoffWorlds, request, type OneoffWorld } from './oneoff-fixture.js';

const MODEL = 'gemini-2.5-flash';
/** 1 real second = 1 emulated hour: a 1-minute turnaround is over in ~17 real ms. */
const FAST = { timeScale: 3600, turnaroundMs: 60_000 };

/** A request using every top-level field the API takes beside contents. */
const FULL_REQUEST = {
  contents: [{ role: 'user', parts: [{ text: 'Name a colour.' }] }],
  systemInstruction: { parts: [{ text: 'Answer in JSON.' }] },
  generationConfig: {
    temperature: 0.2,
    thinkingConfig: { thinkingBudget: 0 },
    responseMimeType: 'application/json',
    responseJsonSchema: { type: 'object', properties: { colour: { type: 'string' } }, required: ['colour'] },
  },
  safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
  tools: [
    {
      functionDeclarations: [
        { name: 'lookup', description: 'Looks a colour up.', parameters: { type: 'OBJECT' } },
      ],
    },
  ],
  toolConfig: { functionCallingConfig: { mode: 'NONE' } },
  labels: { team: 'catalogs' },
};

const startWorld = oneoffWorlds();
/** What the emulator's model received, by request key: the wire request after the SDK (or the upload). */
let received: Map<string, WireGenerateRequest[]>;

async function start(options: Parameters<typeof startWorld>[0] = FAST): Promise<OneoffWorld> {
  received = new Map();
  return startWorld({
    ...options,
    responder: (call) => {
      received.set(call.key ?? '', [...(received.get(call.key ?? '') ?? []), call.request]);
      return undefined;
    },
  });
}

/** The job's input as the emulator reports it: an uploaded file name, or undefined for inline requests. */
async function inputFileOf(w: OneoffWorld, name: string): Promise<string | undefined> {
  const { body } = await rawGet(w.emulator, name);
  return (body.metadata as { inputConfig?: { fileName?: string } }).inputConfig?.fileName;
}

describe('wavebatch submit against the emulator', () => {
  it('counts one inline result as one: status and fetch said "1 inline responses", "1 inline results"', async () => {
    const w = await start();
    const input = join(w.dir, 'one.jsonl');
    await writeFile(input, `${JSON.stringify({ key: 'only', request: request('alone') })}\n`);
    const name = (await w.run(submitCommand, [input, '--model', MODEL])).trim();
    await w.waitFor(name, ['SUCCEEDED']);
    expect(await w.run(statusCommand, [name])).toContain('results       1 inline response\n');
    const out = join(w.dir, 'one-out');
    expect(await w.run(fetchCommand, [name, '--out', out])).toBe(
      `${name}: 1 inline result -> ${join(out, `${name.slice('batches/'.length)}.jsonl`)}\n`,
    );
  });

  it('sends a small JSONL inline and an --upload of it, both delivering every request field and key unchanged', async () => {
    const w = await start();
    const input = join(w.dir, 'prompts.jsonl');
    await writeFile(
      input,
      `${JSON.stringify({ key: 'k1', request: FULL_REQUEST })}\n\n${JSON.stringify(request('plain'))}\n`,
    );

    const inline = (await w.run(submitCommand, [input, '--model', MODEL])).trim();
    expect(inline).toMatch(/^batches\/[a-z0-9]+$/);
    expect(await inputFileOf(w, inline)).toBeUndefined();
    await w.waitFor(inline, ['SUCCEEDED']);
    const inlineStatus = await w.run(statusCommand, [inline]);
    expect(inlineStatus).toContain('display name  wavebatch-submit-prompts');
    expect(inlineStatus).toContain('2 inline responses');
    // Blank lines are skipped; a line without a key is named after its position among the requests.
    expect([...received.keys()].sort()).toEqual(['k1', 'request-2']);
    expect(received.get('k1')).toEqual([FULL_REQUEST]);

    const uploaded = (
      await w.run(submitCommand, [input, '-m', MODEL, '--upload', '--display-name', 'nightly/v2'])
    ).trim();
    expect(await inputFileOf(w, uploaded)).toMatch(/^files\//);
    await w.waitFor(uploaded, ['SUCCEEDED']);
    expect(await w.run(statusCommand, [uploaded])).toMatch(
      /display name {2}nightly\/v2[\s\S]*results file {2}files\//,
    );
    expect(received.get('k1')).toEqual([FULL_REQUEST, FULL_REQUEST]);
    expect(received.get('request-2')).toEqual([request('plain'), request('plain')]);

    const listed = JSON.parse(await w.run(jobsCommand, ['--json'])) as Array<Record<string, unknown>>;
    expect(listed.map((job) => job.name)).toEqual([uploaded, inline]);
    // Google's list carries no outputs; `status` (a get) shows them.
    expect(listed[1]).toMatchObject({ state: 'succeeded' });
    expect(listed[1]?.inlinedResponseCount).toBeUndefined();
    expect(listed[1]).not.toHaveProperty('inlinedResponses');

    // A generationConfig field the SDK cannot send inline is never dropped: the file goes verbatim,
    // and the API (which does not know this one) fails that line naming it.
    const exotic = join(w.dir, 'exotic.jsonl');
    const exoticRequest = { ...request('hi'), generationConfig: { temperature: 0, futureKnob: 3 } };
    await writeFile(exotic, `${JSON.stringify({ key: 'e', request: exoticRequest })}\n`);
    const exoticJob = (await w.run(submitCommand, [exotic, '-m', MODEL])).trim();
    const exoticInput = (await inputFileOf(w, exoticJob)) ?? '';
    expect(exoticInput).toMatch(/^files\//);
    const stored = JSON.parse(
      (await w.emulator.storedFile(exoticInput))?.toString('utf8') ?? '{}',
    ) as unknown;
    expect(stored).toEqual({ key: 'e', request: exoticRequest });
    await w.waitFor(exoticJob, ['SUCCEEDED']);
    expect(received.get('e')).toBeUndefined();
    expect(await w.run(statusCommand, [exoticJob])).toMatch(/1 total, 0 succeeded, 1 failed/);
    const refused = await w.fail(submitCommand, [exotic, '-m', MODEL, '--inline']);
    expect(refused).toMatchObject({ exitCode: 2, error: { code: 'INPUT_INVALID' } });
    expect(refused.error.message).toContain(
      'exotic.jsonl:1: generationConfig.futureKnob cannot be sent inline',
    );
  });

  it('goes inline up to 1 MB of JSONL and uploads above it, unless told otherwise', async () => {
    // Jobs that never come due: nothing is processed, only where the requests went matters here.
    const w = await start({ timeScale: 1, turnaroundMs: 3_600_000 });
    // Two requests whose JSONL lines add up to just under, and just over, the threshold.
    const fileOf = async (name: string, totalBytes: number) => {
      const overhead = Buffer.byteLength(`${JSON.stringify({ key: 'a', request: request('') })}\n`);
      const text = 'x'.repeat(Math.floor(totalBytes / 2) - overhead);
      const path = join(w.dir, name);
      await writeFile(
        path,
        ['a', 'b'].map((key) => `${JSON.stringify({ key, request: request(text) })}\n`).join(''),
      );
      return path;
    };
    const small = await fileOf('small.jsonl', AUTO_INLINE_MAX_BYTES);
    const large = await fileOf('large.jsonl', AUTO_INLINE_MAX_BYTES + 2);
    expect((await readFile(small)).length).toBe(AUTO_INLINE_MAX_BYTES);

    const smallJob = (await w.run(submitCommand, [small, '-m', MODEL])).trim();
    const largeJob = (await w.run(submitCommand, [large, '-m', MODEL])).trim();
    const forcedInline = (await w.run(submitCommand, [large, '-m', MODEL, '--inline'])).trim();
    expect(await inputFileOf(w, smallJob)).toBeUndefined();
    expect(await inputFileOf(w, largeJob)).toMatch(/^files\//);
    expect(await inputFileOf(w, forcedInline)).toBeUndefined();
  });

  it('rejects bad input naming the file and line, exit code 2, and creates no job', async () => {
    const w = await start();
    const missing = await w.fail(submitCommand, [join(w.dir, 'missing.jsonl'), '-m', MODEL]);
    expect(missing).toMatchObject({ exitCode: 2, error: { code: 'INPUT_INVALID' } });
    expect(missing.stderr).toContain(`error [INPUT_INVALID]: Cannot read ${join(w.dir, 'missing.jsonl')}`);

    const cases: Array<[string, string, RegExp]> = [
      ['bad.jsonl', `${JSON.stringify(request('a'))}\n{"contents": [}\n`, /bad\.jsonl:2: invalid JSON/],
      ['array.json', '{"contents": []}', /must hold a JSON array of requests/],
      [
        'empty-contents.json',
        '[{"key": "a", "request": {"contents": []}}]',
        /empty-contents\.json item 1: a request needs a non-empty "contents"/,
      ],
      [
        'snake.jsonl',
        `${JSON.stringify({ ...request('a'), generation_config: {} })}\n`,
        /snake\.jsonl:1: unknown request field "generation_config"/,
      ],
      [
        'dup.jsonl',
        `${JSON.stringify({ key: 'a', request: request('x') })}\n`.repeat(2),
        /dup\.jsonl:2: key "a" is used twice/,
      ],
      ['blank.jsonl', '\n\n', /holds no requests/],
    ];
    for (const [name, content, message] of cases) {
      await writeFile(join(w.dir, name), content);
      const { error, exitCode } = await w.fail(submitCommand, [join(w.dir, name), '-m', MODEL]);
      expect(error.message).toMatch(message);
      expect(exitCode).toBe(2);
    }
    const both = await w.fail(submitCommand, [join(w.dir, 'bad.jsonl'), '-m', MODEL, '--inline', '--upload']);
    expect(both.error.message).toContain('Choose one of --inline and --upload');
    expect(await w.run(jobsCommand, [])).toBe('no jobs\n');
    expect(await w.run(fetchCommand, ['--all-pending', '--out', join(w.dir, 'out')])).toBe(
      'nothing new to fetch\n',
    );
  });
});
