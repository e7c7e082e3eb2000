import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DocumentMetadataContentLayer,
  GoogleGenAI,
  HarmBlockThreshold,
  HarmCategory,
  ServiceTier,
  type Part,
} from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { wavBytes } from '../media/timed-media.js';
import { emulatorSandbox, inputLine, pollUntilDone, refusalOf, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';

/** A batch job from an uploaded input file of `lines`, run to its end: the rows of its results file. */
async function fileJobRows(
  emulator: RunningEmulator,
  dir: string,
  lines: string[],
): Promise<Array<{ key: string; error?: { code: number; message: string } }>> {
  const ai = sdkFor(emulator);
  writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
  const file = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'text/plain' } });
  const job = await ai.batches.create({ model: MODEL, src: file.name ?? '' });
  const done = (await pollUntilDone(emulator, job.name ?? '')) as {
    metadata: { output: { responsesFile: string } };
  };
  await ai.files.download({ file: done.metadata.output.responsesFile, downloadPath: join(dir, 'out.jsonl') });
  return readFileSync(join(dir, 'out.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { key: string; error?: { code: number; message: string } });
}

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; body: { error?: Record<string, unknown> } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { error?: Record<string, unknown> } };
}

describe('emulator strictness: what Google refuses, the emulator refuses', () => {
  const sandbox = emulatorSandbox();

  it('serves v1alpha, v1beta and v1 alike', async () => {
    const emulator = await sandbox.startEmulator();
    for (const apiVersion of ['v1alpha', 'v1beta', 'v1']) {
      const ai = new GoogleGenAI({ apiKey: 'k', apiVersion, httpOptions: { baseUrl: emulator.url } });
      const answer = await ai.models.generateContent({ model: MODEL, contents: `hello from ${apiVersion}` });
      expect(answer.text).toContain('synthetic answer');
    }
    expect(emulator.ledger.entries()).toHaveLength(3);
  });

  it('accepts every field the SDK sends, the service tier included, and refuses an unknown one naming it', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const answer = await ai.models.generateContent({
      model: MODEL,
      contents: [{ role: 'user', parts: [{ text: 'Name three rivers.' }] }],
      config: {
        systemInstruction: 'Be brief.',
        temperature: 0.2,
        topP: 0.9,
        topK: 20,
        maxOutputTokens: 500,
        stopSequences: ['END'],
        seed: 4,
        candidateCount: 1,
        presencePenalty: 0.1,
        frequencyPenalty: 0.1,
        responseMimeType: 'application/json',
        responseJsonSchema: {
          type: 'object',
          properties: { rivers: { type: 'array', items: { type: 'string' } } },
        },
        thinkingConfig: { thinkingBudget: 256, includeThoughts: false },
        safetySettings: [
          { category: HarmCategory.HARM_CATEGORY_HARASSMENT, threshold: HarmBlockThreshold.BLOCK_NONE },
        ],
        serviceTier: ServiceTier.STANDARD,
        labels: { team: 'catalogs' },
      },
    });
    expect(JSON.parse(answer.text ?? '')).toHaveProperty('rivers');

    const typo = await post(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
      contents: [{ parts: [{ text: 'hi' }] }],
      generationConfig: { temprature: 0.5, serviceTier: 'flex' },
      systemInstructions: { parts: [{ text: 'x' }] },
    });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message:
        'Invalid JSON payload received. Unknown name "systemInstructions": Cannot find field.\n' +
        `Invalid JSON payload received. Unknown name "temprature" at 'generation_config': Cannot find field.`,
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [
            { description: expect.stringContaining('"systemInstructions"') as unknown },
            { field: 'generation_config', description: expect.stringContaining('"temprature"') as unknown },
          ],
        },
      ],
    });
    const part = await post(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
      contents: [{ role: 'user', parts: [{ text: 'hi', txet: 'typo' }] }],
      generation_config: { thinking_config: { thinking_budgett: 5 } },
    });
    expect(part.body.error?.message).toBe(
      `Invalid JSON payload received. Unknown name "txet" at 'contents[0].parts[0]': Cannot find field.\n` +
        `Invalid JSON payload received. Unknown name "thinking_budgett" at 'generation_config.thinking_config': Cannot find field.`,
    );
    expect(emulator.ledger.entries()).toHaveLength(1);
  });

  it('accepts the media metadata of a Part that SDK 3.6 sends (document, spreadsheet, audio), in a call and in an inline batch', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const pdf = Buffer.from('%PDF-1.4\n3 0 obj << /Type /Page >> endobj\n%%EOF\n', 'latin1');
    const parts: Part[] = [
      { text: 'Summarise the report, the sheet and the recording.' },
      {
        inlineData: { mimeType: 'application/pdf', data: pdf.toString('base64') },
        documentMetadata: {
          startPage: 1,
          endPage: 1,
          contentLayers: [DocumentMetadataContentLayer.PAGE_TEXT],
        },
      },
      {
        inlineData: { mimeType: 'text/csv', data: Buffer.from('a,b\n1,2\n').toString('base64') },
        spreadsheetMetadata: { visibleCells: 'A1:B2', sheetIndex: 1 },
      },
      {
        inlineData: { mimeType: 'audio/wav', data: wavBytes(2).toString('base64') },
        audioMetadata: { startOffset: '0s', endOffset: '1s' },
      },
    ];
    const answer = await ai.models.generateContent({ model: MODEL, contents: [{ role: 'user', parts }] });
    expect(answer.text).toContain('synthetic answer');

    const job = await ai.batches.create({
      model: MODEL,
      src: [{ contents: [{ role: 'user', parts }], metadata: { key: 'media' } }],
    });
    const done = (await pollUntilDone(emulator, job.name ?? '')) as {
      metadata: { output: { inlinedResponses: { inlinedResponses: Array<Record<string, unknown>> } } };
    };
    const [result] = done.metadata.output.inlinedResponses.inlinedResponses;
    expect(result).not.toHaveProperty('error');
    expect(result).toHaveProperty('response');
    expect(emulator.ledger.entries()).toHaveLength(2);
  });

  it('refuses an inline batch with an unknown field whole, and fails only the line of a file batch that has one', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 60_000 });
    const inline = await post(`${emulator.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
      batch: {
        inputConfig: {
          requests: {
            requests: [
              { request: { contents: [{ parts: [{ text: 'a' }] }] }, metadata: { key: 'a' } },
              {
                request: { contents: [{ parts: [{ text: 'b' }] }], generationConfig: { temprature: 1 } },
                metadata: { key: 'b' },
              },
            ],
          },
        },
      },
    });
    expect(inline.status).toBe(400);
    expect(inline.body.error?.message).toContain(
      `Unknown name "temprature" at 'batch.input_config.requests.requests[1].request.generation_config'`,
    );

    const dir = sandbox.tempDir('strict-lines');
    const typo = JSON.stringify({
      key: 'typo',
      request: { contents: [{ parts: [{ text: 'b' }] }], generationConfig: { temprature: 1 } },
    });
    const rows = await fileJobRows(emulator, dir, [inputLine('fine', 'a'), typo]);
    expect(rows.find((row) => row.key === 'typo')?.error).toEqual({
      code: 3,
      message: `Invalid JSON payload received. Unknown name "temprature" at 'generation_config': Cannot find field.`,
    });
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['fine']);
  });

  // Google validates each Content (chatwise-releases#250, vercel/ai#3775, genkit#3816,
  // the-open-agent#1666); the emulator answered them all, billing a prompt of 0 tokens.
  it('refuses a Content without parts, a Part without data and a role other than user or model, in every call', async () => {
    let now = Date.parse('2026-04-01T00:00:00Z');
    const emulator = await sandbox.startEmulator({ realNow: () => now, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const noParts = await refusalOf(
      ai.models.generateContent({
        model: MODEL,
        contents: [
          { role: 'user', parts: [{ text: 'a' }] },
          { role: 'model', parts: [] },
        ],
      }),
    );
    expect(noParts).toEqual({
      status: 400,
      body: {
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: '* GenerateContentRequest.contents[1].parts: contents.parts must not be empty.\n',
        },
      },
    });
    const noData = await refusalOf(
      ai.models.countTokens({ model: MODEL, contents: [{ role: 'user', parts: [{ text: 'a' }, {}] }] }),
    );
    expect([noData.status, noData.body.error.message]).toEqual([
      400,
      "* CountTokensRequest.contents[0].parts[1].data: required oneof field 'data' must have one initialized field\n",
    ]);
    // Media metadata (SDK 3.6's documentMetadata, audioMetadata, …) lies beside the data, like
    // videoMetadata: a part of metadata alone has no data. The emulator took such a part as data.
    for (const metadata of [
      { documentMetadata: { startPage: 1 } },
      { spreadsheetMetadata: { sheetIndex: 1 } },
      { audioMetadata: { startOffset: '1s' } },
    ]) {
      const onlyMetadata = await refusalOf(
        ai.models.countTokens({
          model: MODEL,
          contents: [{ role: 'user', parts: [{ text: 'a' }, metadata] }],
        }),
      );
      expect([onlyMetadata.status, onlyMetadata.body.error.message]).toEqual([
        400,
        "* CountTokensRequest.contents[0].parts[1].data: required oneof field 'data' must have one initialized field\n",
      ]);
    }
    const role = await refusalOf(
      ai.models.generateContent({ model: MODEL, contents: [{ role: 'assistant', parts: [{ text: 'hi' }] }] }),
    );
    expect([role.status, role.body.error.message]).toEqual([400, 'Please use a valid role: user, model.']);
    // A content without a role is the user's, and a thought signature beside text is fine.
    const fine = await ai.models.generateContent({
      model: MODEL,
      contents: [{ parts: [{ text: 'hi', thoughtSignature: 'c2ln' }] }],
    });
    expect(fine.text).toBeTruthy();

    const inline = await post(`${emulator.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
      batch: {
        inputConfig: {
          requests: {
            requests: [{ request: { contents: [{ role: 'user', parts: [] }] }, metadata: { key: 'a' } }],
          },
        },
      },
    });
    expect([inline.status, inline.body.error?.message]).toEqual([
      400,
      '* BatchGenerateContentRequest.batch.input_config.requests.requests[0].request.contents[0].parts: contents.parts must not be empty.\n',
    ]);

    const dir = sandbox.tempDir('strict-contents');
    const line = (key: string, contents: unknown) => JSON.stringify({ key, request: { contents } });
    writeFileSync(
      join(dir, 'in.jsonl'),
      [
        inputLine('fine', 'a'),
        line('empty', [{ role: 'user', parts: [] }]),
        line('system', [{ role: 'system', parts: [{ text: 'a' }] }]),
      ].join('\n') + '\n',
    );
    const file = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'text/plain' } });
    const job = await ai.batches.create({ model: MODEL, src: file.name ?? '' });
    now += 60_000;
    const done = (await pollUntilDone(emulator, job.name ?? '')) as {
      metadata: { output: { responsesFile: string } };
    };
    await ai.files.download({
      file: done.metadata.output.responsesFile,
      downloadPath: join(dir, 'out.jsonl'),
    });
    const errors = Object.fromEntries(
      readFileSync(join(dir, 'out.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text) as { key: string; error?: unknown })
        .map((row) => [row.key, row.error]),
    );
    expect(errors).toEqual({
      fine: undefined,
      empty: {
        code: 3,
        message: '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n',
      },
      system: { code: 3, message: 'Please use a valid role: user, model.' },
    });
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual([null, 'fine']);
  });

  it('refuses a batch create with a field of the batch Google does not know, or an inline request without contents, creating nothing', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 60_000 });
    const url = `${emulator.url}/v1beta/models/${MODEL}:batchGenerateContent`;
    const request = { contents: [{ parts: [{ text: 'a' }] }] };
    const typo = await post(url, {
      batch: { displayName: 'x', priorty: '5', inputConfig: { requests: { requests: [{ request }] } } },
    });
    expect(typo).toEqual({
      status: 400,
      body: {
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: `Invalid JSON payload received. Unknown name "priorty" at 'batch': Cannot find field.`,
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.BadRequest',
              fieldViolations: [
                {
                  field: 'batch',
                  description: `Invalid JSON payload received. Unknown name "priorty" at 'batch': Cannot find field.`,
                },
              ],
            },
          ],
        },
      },
    });
    const nested = await post(url, {
      batch: { inputConfig: { requests: { requests: [{ request, metadata: {}, key: 'a' }] } } },
    });
    expect(nested.body.error?.message).toBe(
      `Invalid JSON payload received. Unknown name "key" at 'batch.input_config.requests.requests[0]': Cannot find field.`,
    );
    const empty = await post(url, {
      batch: {
        inputConfig: { requests: { requests: [{ request }, { request: {}, metadata: { key: 'b' } }] } },
      },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message:
        '* BatchGenerateContentRequest.batch.input_config.requests.requests[1].request.contents: contents is not specified',
    });
    const ai = sdkFor(emulator);
    expect((await ai.batches.list()).page).toEqual([]);

    // Every field the SDK sends is known: displayName, webhookConfig, an inline request's model.
    const job = await ai.batches.create({
      model: MODEL,
      src: [{ contents: 'a', model: MODEL, metadata: { key: 'a' } }],
      config: { displayName: 'fine', webhookConfig: { uris: ['https://example.invalid/hook'] } },
    });
    expect(job.name).toMatch(/^batches\//);
    await pollUntilDone(emulator, job.name ?? '');

    // In an input file only the line without contents fails, with gRPC code 3.
    const dir = sandbox.tempDir('strict-contents');
    const bare = JSON.stringify({ key: 'bare', request: { generationConfig: { temperature: 1 } } });
    const rows = await fileJobRows(emulator, dir, [inputLine('fine', 'a'), bare]);
    expect(rows.find((row) => row.key === 'bare')?.error).toEqual({
      code: 3,
      message: '* GenerateContentRequest.contents: contents is not specified',
    });
    // Billed: the SDK's inline job and the file's good line, nothing of the refused creates.
    expect(
      emulator.ledger
        .entries()
        .map((entry) => entry.key ?? '')
        .sort(),
    ).toEqual(['a', 'fine']);
  });

  it('refuses countTokens with a top-level systemInstruction (or generationConfig) as Google does; a whole generateContentRequest may carry one', async () => {
    const emulator = await sandbox.startEmulator();
    const url = `${emulator.url}/v1beta/models/${MODEL}:countTokens`;
    const contents = [{ role: 'user', parts: [{ text: 'Count me.' }] }];
    const systemInstruction = { parts: [{ text: 'Be brief.' }] };
    const refused = await post(url, { contents, systemInstruction, generationConfig: { temperature: 1 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message: [
        'Invalid JSON payload received. Unknown name "systemInstruction": Cannot find field.',
        'Invalid JSON payload received. Unknown name "generationConfig": Cannot find field.',
      ].join('\n'),
    });
    const whole = await post(url, {
      generateContentRequest: { model: `models/${MODEL}`, contents, systemInstruction },
    });
    expect(whole).toMatchObject({ status: 200, body: { totalTokens: 5 } }); // 18 characters of text in all
    expect((await post(url, { contents })).body).toMatchObject({ totalTokens: 3 });
  });

  it('refuses a batch from an input file that does not exist with 403 PERMISSION_DENIED, as every other use of a missing file', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const refusal = await refusalOf(ai.batches.create({ model: MODEL, src: 'files/nosuchfile' }));
    expect(refusal).toEqual({
      status: 403,
      body: {
        error: {
          code: 403,
          status: 'PERMISSION_DENIED',
          message: 'You do not have permission to access the File nosuchfile or it may not exist.',
        },
      },
    });
  });

  it('refuses inline batch requests over 20 MB in all with 400, and so a generateContent body', async () => {
    // 5M tokens fit in 20 MB: more than 2.5 Flash's Tier 1 enqueued-token limit (3M), raised here.
    const emulator = await sandbox.startEmulator({ quotas: { maxEnqueuedTokensPerModel: 10_000_000 } });
    const text = 'x'.repeat(1024 * 1024);
    const requests = Array.from({ length: 21 }, (_, i) => ({
      request: { contents: [{ parts: [{ text }] }] },
      metadata: { key: `k${i}` },
    }));
    const expected = {
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'Request payload size exceeds the limit: 20971520 bytes.',
    };
    const big = await post(`${emulator.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
      batch: { inputConfig: { requests: { requests } } },
    });
    expect(big).toMatchObject({ status: 400, body: { error: expected } });
    const ai = sdkFor(emulator);
    const refused = await refusalOf(
      ai.batches.create({
        model: MODEL,
        src: requests.map((item) => ({ contents: item.request.contents, metadata: item.metadata })),
      }),
    );
    expect(refused).toMatchObject({ status: 400, body: { error: expected } });
    const fits = await ai.batches.create({
      model: MODEL,
      src: requests
        .slice(0, 19)
        .map((item) => ({ contents: item.request.contents, metadata: item.metadata })),
    });
    expect(fits.state).toBe('JOB_STATE_PENDING');
    const generate = await post(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
      contents: requests.map((item) => item.request.contents[0]),
    });
    expect(generate).toMatchObject({ status: 400, body: { error: expected } });
  });

  it('refuses an unknown model with 404 NOT_FOUND in every call, and serves extra models when told', async () => {
    const emulator = await sandbox.startEmulator({ models: ['my-tuned-model'] });
    const ai = sdkFor(emulator);
    const generate = await refusalOf(
      ai.models.generateContent({ model: 'gemini-2.5-flashy', contents: 'hi' }),
    );
    expect(generate).toEqual({
      status: 404,
      body: {
        error: {
          code: 404,
          status: 'NOT_FOUND',
          message:
            'models/gemini-2.5-flashy is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
        },
      },
    });
    expect((await refusalOf(ai.models.countTokens({ model: 'gemini-9-ultra', contents: 'hi' }))).status).toBe(
      404,
    );
    const batch = await refusalOf(ai.batches.create({ model: 'gemini-9-ultra', src: [{ contents: 'hi' }] }));
    expect(batch.body.error.message).toContain('is not supported for batchGenerateContent');
    for (const model of [
      'gemini-2.5-pro',
      'gemini-2.5-flash-lite',
      'gemini-2.0-flash',
      'models/gemini-2.5-flash',
      'my-tuned-model',
    ])
      expect((await ai.models.generateContent({ model, contents: 'hi' })).text).toBeTruthy();
  });

  // thinkingConfig.includeThoughts: Gemini returns a summary of its thoughts as a first part marked
  // thought: true; the emulator returned the answer alone, so a client taking every part's text as
  // the answer passed here and mixed the summary into its results at Google.
  it('returns a thought summary part (thought: true) before the answer when includeThoughts is set', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const ask = (model: string, includeThoughts: boolean) =>
      ai.models.generateContent({
        model,
        contents: 'Plan a week of meals.',
        config: { thinkingConfig: { includeThoughts } },
      });
    const summarised = await ask('gemini-2.5-flash', true);
    const parts = summarised.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatchObject({
      thought: true,
      text: expect.stringContaining('thought summary') as unknown,
    });
    expect(parts[1]?.thought).toBeUndefined();
    // The SDK's text is the answer alone; the summary is no part of the answer's tokens.
    expect(summarised.text).toBe(parts[1]?.text);
    expect(summarised.usageMetadata?.candidatesTokenCount).toBe(Math.ceil((parts[1]?.text ?? '').length / 4));
    expect(summarised.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);

    const plain = await ask('gemini-2.5-flash', false);
    expect(plain.candidates?.[0]?.content?.parts?.map((part) => part.thought)).toEqual([undefined]);
    // A model that does not think has no thoughts to summarise.
    const noThinking = await ask('gemini-2.0-flash', true);
    expect(noThinking.candidates?.[0]?.content?.parts).toHaveLength(1);
  });

  // generationConfig.candidateCount: Gemini answers with that many candidates and bills them all;
  // the emulator answered one and billed one, so a workload asking for several cost 1/n here.
  it('returns candidateCount candidates, indexed, and counts and bills the output of each', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const ask = (candidateCount?: number) =>
      ai.models.generateContent({
        model: 'gemini-2.5-flash',
        contents: 'Name a colour.',
        config: { ...(candidateCount ? { candidateCount } : {}), thinkingConfig: { thinkingBudget: 100 } },
      });
    const one = await ask();
    const three = await ask(3);
    expect(three.candidates?.map((candidate) => candidate.index)).toEqual([0, 1, 2]);
    expect(three.candidates?.every((candidate) => candidate.finishReason === 'STOP')).toBe(true);
    const single = one.usageMetadata ?? {};
    const usage = three.usageMetadata ?? {};
    expect(usage.candidatesTokenCount).toBe(3 * (single.candidatesTokenCount ?? 0));
    expect(usage.thoughtsTokenCount).toBe(3 * (single.thoughtsTokenCount ?? 0));
    expect(usage.totalTokenCount).toBe(
      (usage.promptTokenCount ?? 0) + (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    );
    const [first, second] = emulator.ledger.entries();
    expect(second?.outputTokens).toBe(3 * (first?.outputTokens ?? 0));
  });

  // Google checks the thinking budget against the model's documented range ("The thinking budget
  // (52428) is invalid.", Roo-Code#4399) and refuses a budget beside a level ("You can only set only
  // one of thinking budget and thinking level.", eclipse-peon-ai#115); the emulator answered both.
  it('refuses a thinking budget outside the model range, and a budget beside a thinking level', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const ask = (model: string, thinkingConfig: Record<string, unknown>) =>
      ai.models.generateContent({ model, contents: 'hi', config: { thinkingConfig } });
    const message = async (model: string, thinkingConfig: Record<string, unknown>) => {
      const refusal = await refusalOf(ask(model, thinkingConfig));
      return `${refusal.status} ${String(refusal.body.error.message)}`;
    };
    expect(await message('gemini-2.5-pro', { thinkingBudget: 52_428 })).toBe(
      '400 The thinking budget (52428) is invalid.',
    );
    expect(await message('gemini-2.5-pro', { thinkingBudget: 64 })).toBe(
      '400 The thinking budget (64) is invalid.',
    );
    expect(await message('gemini-2.5-flash', { thinkingBudget: 24_577 })).toBe(
      '400 The thinking budget (24577) is invalid.',
    );
    expect(await message('gemini-2.5-flash-lite', { thinkingBudget: 100 })).toBe(
      '400 The thinking budget (100) is invalid.',
    );
    expect(await message('gemini-3-flash-preview', { thinkingBudget: 1024, thinkingLevel: 'LOW' })).toBe(
      '400 You can only set only one of thinking budget and thinking level.',
    );
    // The ends of each range, dynamic (-1) and off (0, where the model may stop thinking) are taken.
    for (const [model, budgets] of [
      ['gemini-2.5-pro', [128, 32_768, -1]],
      ['gemini-2.5-flash', [0, 1, 24_576, -1]],
      ['gemini-2.5-flash-lite', [0, 512, 24_576, -1]],
    ] as const) {
      for (const thinkingBudget of budgets) expect((await ask(model, { thinkingBudget })).text).toBeTruthy();
    }
  });

  it('reports thinking tokens, bills them as output, and refuses a zero budget for a model that must think', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const answer = await ai.models.generateContent({
      model: 'gemini-2.5-pro',
      contents: 'Plan a week of meals.',
    });
    const usage = answer.usageMetadata ?? {};
    expect(usage.thoughtsTokenCount).toBeGreaterThan(0);
    expect(usage.totalTokenCount).toBe(
      (usage.promptTokenCount ?? 0) + (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    );
    const [entry] = emulator.ledger.entries();
    expect(entry).toMatchObject({
      outputTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
      thoughtsTokens: usage.thoughtsTokenCount,
    });
    // 2.5 Pro: $10 per 1M output tokens, thinking included.
    expect(entry?.costUsd).toBeCloseTo(
      ((usage.promptTokenCount ?? 0) * 1.25 + (entry?.outputTokens ?? 0) * 10) / 1e6,
      12,
    );
    const flashLite = await ai.models.generateContent({ model: 'gemini-2.5-flash-lite', contents: 'hi' });
    expect(flashLite.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    const zero = await refusalOf(
      ai.models.generateContent({
        model: 'gemini-2.5-pro',
        contents: 'hi',
        config: { thinkingConfig: { thinkingBudget: 0 } },
      }),
    );
    expect(zero).toMatchObject({
      status: 400,
      body: { error: { message: 'Budget 0 is invalid. This model only works in thinking mode.' } },
    });
  });

  it('never reuses ids across emulator instances, even with the same seed', async () => {
    const dir = sandbox.tempDir('ids');
    writeFileSync(join(dir, 'in.jsonl'), `${inputLine('a', 'x')}\n`);
    const names: string[] = [];
    for (let run = 0; run < 2; run++) {
      const emulator = await sandbox.startEmulator({ seed: 42 });
      const ai = sdkFor(emulator);
      const file = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'text/plain' } });
      const job = await ai.batches.create({ model: MODEL, src: file.name ?? '' });
      names.push(file.name ?? '', job.name ?? '');
      expect(job.name).toMatch(/^batches\/[a-z0-9]{36}$/);
      await emulator.close();
    }
    expect(new Set(names).size).toBe(4);
  });

  it('lists jobs without their outputs: only get carries them', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const job = await ai.batches.create({ model: MODEL, src: [{ contents: 'hi', metadata: { key: 'a' } }] });
    await pollUntilDone(emulator, job.name ?? '');
    const listed = [];
    for await (const item of await ai.batches.list()) listed.push(item);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: job.name, state: 'JOB_STATE_SUCCEEDED' });
    expect(listed[0]?.dest).toBeUndefined();
    const raw = (await (
      await fetch(`${emulator.url}/v1beta/batches`, { headers: { 'x-goog-api-key': 'k' } })
    ).json()) as { operations: Array<Record<string, unknown>> };
    expect(raw.operations[0]).not.toHaveProperty('response');
    expect(raw.operations[0]?.metadata).not.toHaveProperty('output');
    expect((await ai.batches.get({ name: job.name ?? '' })).dest?.inlinedResponses).toHaveLength(1);
  });
});
