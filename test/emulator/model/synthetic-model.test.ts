import { readFileSync } from 'node:fs';
import { GenerateContentResponse } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  answerRequest,
  promptDigest,
  promptTextOf,
  type ModelAnswer,
  type ModelCall,
  type WireGenerateRequest,
} from '../../../src/emulator/model/index.js';
import { compileSchema } from './schema-validator.js';

const catalogSchema: unknown = JSON.parse(
  readFileSync(new URL('../../../examples/catalogs/schema.json', import.meta.url), 'utf8'),
);

/** A request as our client sends it (see src/gemini/request.ts toWireRequest). */
function jsonRequest(prompt: string, extraConfig: Record<string, unknown> = {}): WireGenerateRequest {
  return {
    contents: [{ role: 'user', parts: [{ text: prompt }] }],
    systemInstruction: { role: 'user', parts: [{ text: 'Extract the courses as JSON.' }] },
    generationConfig: {
      responseMimeType: 'application/json',
      responseJsonSchema: catalogSchema,
      ...extraConfig,
    },
  };
}

function call(request: WireGenerateRequest, overrides: Partial<ModelCall> = {}): ModelCall {
  return { model: 'gemini-2.5-flash', request, key: 'page-1', seed: 1, ...overrides };
}

function response(answer: ModelAnswer): Extract<ModelAnswer, { kind: 'response' }> {
  if (answer.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(answer)}`);
  return answer;
}

/** Reads the answer the way callers do: through the SDK's own response class. */
function sdkView(answer: ModelAnswer): GenerateContentResponse {
  return Object.assign(new GenerateContentResponse(), response(answer).response);
}

function parseJson(text: string | undefined): unknown {
  return JSON.parse(text ?? '');
}

describe('answerRequest (synthetic model)', () => {
  it('answers JSON mode with schema-valid JSON revealing the prompt digest, in the wire shape', () => {
    const request = jsonRequest('Catalog page 1: PHY101 Physics, 4 h/week');
    const answer = response(answerRequest(call(request), null));
    const sdk = sdkView(answer);
    const value = parseJson(sdk.text) as { carry_over: string; courses: Array<{ code: string }> };
    expect(compileSchema(catalogSchema)(value)).toBe(true);
    const digest = promptDigest('Extract the courses as JSON.\nCatalog page 1: PHY101 Physics, 4 h/week');
    expect(value.carry_over).toBe(`carry_over·${digest}`);
    expect(value.courses[0]?.code).toBe(`code·${digest}`);
    expect(answer.outcome).toBe('ok');
    expect(sdk.candidates?.[0]).toMatchObject({ finishReason: 'STOP', index: 0, content: { role: 'model' } });
    expect(sdk.modelVersion).toBe('gemini-2.5-flash');
    expect(sdk.responseId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sdk.usageMetadata).toEqual({
      promptTokenCount: answer.inputTokens,
      candidatesTokenCount: answer.outputTokens,
      // gemini-2.5-flash thinks by default; its thoughts count in the total, as Google reports it.
      thoughtsTokenCount: answer.thoughtsTokens,
      totalTokenCount: answer.inputTokens + answer.outputTokens + answer.thoughtsTokens,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: answer.inputTokens }],
    });
    expect(answer.outputTokens).toBe(Math.ceil((sdk.text ?? '').length / 4));
  });

  it('reports thinking tokens as thinking models spend them: per model, per thinkingConfig, deterministic', () => {
    const thoughts = (model: string, thinkingConfig?: Record<string, unknown>) =>
      response(
        answerRequest(
          call(jsonRequest('Catalog page 3', thinkingConfig ? { thinkingConfig } : {}), { model }),
          null,
        ),
      ).thoughtsTokens;
    expect(thoughts('gemini-2.5-pro')).toBeGreaterThan(64);
    expect(thoughts('gemini-2.5-flash')).toBeGreaterThan(64);
    expect(thoughts('gemini-2.5-flash')).toBe(thoughts('models/gemini-2.5-flash'));
    expect(thoughts('gemini-2.5-flash', { thinkingBudget: 0 })).toBe(0);
    expect(thoughts('gemini-2.5-flash', { thinkingBudget: 70 })).toBe(70);
    // Flash-Lite thinks only when given a budget; 2.0 models never think.
    expect(thoughts('gemini-2.5-flash-lite')).toBe(0);
    expect(thoughts('gemini-2.5-flash-lite', { thinkingBudget: -1 })).toBeGreaterThan(64);
    expect(thoughts('gemini-2.0-flash', { thinkingBudget: 1000 })).toBe(0);
    const none = response(
      answerRequest(call(jsonRequest('Catalog page 3'), { model: 'gemini-2.0-flash' }), null),
    );
    expect(none.response.usageMetadata).not.toHaveProperty('thoughtsTokenCount');
  });

  it('is deterministic per (model, request, seed), and the model prefix does not matter', () => {
    const request = jsonRequest('Catalog page 7');
    const first = answerRequest(call(request), null);
    expect(answerRequest(call(structuredClone(request)), null)).toEqual(first);
    expect(sdkView(answerRequest(call(request, { model: 'models/gemini-2.5-flash' }), null)).text).toBe(
      sdkView(first).text,
    );
    const texts = new Set(
      [1, 2, 3, 4, 5, 6].map((seed) => sdkView(answerRequest(call(request, { seed }), null)).text),
    );
    expect(texts.size).toBeGreaterThan(1);
  });

  it('reveals its context: the digest follows the prompt text, so page N proves it saw page N-1', () => {
    const page1 = sdkView(answerRequest(call(jsonRequest('Page 1')), null));
    const carry = (parseJson(page1.text) as { carry_over: string }).carry_over;
    const page2Request = jsonRequest(`Page 2\nPrevious carry-over: ${carry}`);
    const page2 = parseJson(sdkView(answerRequest(call(page2Request, { key: 'page-2' }), null)).text) as {
      carry_over: string;
    };
    expect(page2.carry_over).toBe(`carry_over·${promptDigest(promptTextOf(page2Request))}`);
    expect(promptTextOf(page2Request)).toContain(carry);
    const withoutContext = parseJson(sdkView(answerRequest(call(jsonRequest('Page 2')), null)).text) as {
      carry_over: string;
    };
    expect(withoutContext.carry_over).not.toBe(page2.carry_over);
  });

  it('answers plain text as "synthetic answer <digest>: <first 80 chars of prompt>"', () => {
    const prompt = 'x'.repeat(100);
    const answer = answerRequest(call({ contents: [{ role: 'user', parts: [{ text: prompt }] }] }), null);
    expect(sdkView(answer).text).toBe(`synthetic answer ${promptDigest(prompt)}: ${'x'.repeat(80)}`);
  });

  it('accepts a string system instruction and snake_case fields (as batch files may carry them)', () => {
    const request: WireGenerateRequest = {
      contents: [{ role: 'user', parts: [{ text: 'Body' }] }],
      system_instruction: 'System',
      generation_config: {
        response_mime_type: 'application/json',
        response_json_schema: { type: 'object', properties: { a: { type: 'string' } } },
      },
    };
    expect(promptTextOf(request)).toBe('System\nBody');
    expect(parseJson(sdkView(answerRequest(call(request), null)).text)).toEqual({
      a: `a·${promptDigest('System\nBody')}`,
    });
  });

  it('follows an OpenAPI-style responseSchema: upper-case types, nullable, string counts, propertyOrdering', () => {
    const request: WireGenerateRequest = {
      contents: [{ role: 'user', parts: [{ text: 'Person' }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: 'OBJECT',
          properties: {
            name: { type: 'STRING' },
            age: { type: 'INTEGER', minimum: 0, maximum: 120 },
            tags: { type: 'ARRAY', items: { type: 'STRING' }, minItems: '2', maxItems: '2' },
            nickname: { type: 'STRING', nullable: true },
            kind: { type: 'STRING', format: 'enum', enum: ['a', 'b'] },
            score: { type: 'NUMBER', minimum: 0.5, maximum: 0.75 },
          },
          required: ['name'],
          propertyOrdering: ['kind', 'age', 'name'],
        },
      },
    };
    const text = sdkView(answerRequest(call(request), null)).text;
    const value = parseJson(text) as Record<string, unknown>;
    const equivalent = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer', minimum: 0, maximum: 120 },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 },
        nickname: { type: ['string', 'null'] },
        kind: { enum: ['a', 'b'] },
        score: { type: 'number', minimum: 0.5, maximum: 0.75 },
      },
      required: ['name'],
      additionalProperties: false,
    };
    expect(compileSchema(equivalent)(value)).toBe(true);
    expect(Object.keys(value)).toEqual(['kind', 'age', 'name', 'tags', 'nickname', 'score']);
    expect(value.nickname).toBe(`nickname·${promptDigest('Person')}`);
  });

  it('answers text/x.enum with a bare member of the enum', () => {
    const request: WireGenerateRequest = {
      contents: [{ role: 'user', parts: [{ text: 'Mood?' }] }],
      generationConfig: {
        responseMimeType: 'text/x.enum',
        responseSchema: { type: 'STRING', format: 'enum', enum: ['happy', 'sad'] },
      },
    };
    expect(['happy', 'sad']).toContain(sdkView(answerRequest(call(request), null)).text);
  });

  it('answers JSON mode without a schema with a JSON object', () => {
    const request: WireGenerateRequest = {
      contents: [{ parts: [{ text: 'hi' }] }],
      generationConfig: { responseMimeType: 'application/json' },
    };
    expect(parseJson(sdkView(answerRequest(call(request), null)).text)).toEqual({
      text: `synthetic answer ${promptDigest('hi')}: hi`,
    });
  });
});

describe('answerRequest faults', () => {
  const request = jsonRequest('Catalog page 3');

  it('invalid_json: broken JSON with finishReason STOP, billed', () => {
    const answer = response(answerRequest(call(request), 'invalid_json'));
    const sdk = sdkView(answer);
    expect(() => JSON.parse(sdk.text ?? '')).toThrow();
    expect(sdk.candidates?.[0]?.finishReason).toBe('STOP');
    expect(answer).toMatchObject({
      outcome: 'invalid_json',
      outputTokens: Math.ceil((sdk.text ?? '').length / 4),
    });
    expect(answer.outputTokens).toBeGreaterThan(0);
  });

  it.each([{ type: 'integer', minimum: 10, maximum: 99 }, { type: 'string' }, { type: 'boolean' }])(
    'invalid_json breaks even a scalar answer (%j)',
    (schema) => {
      const scalar: WireGenerateRequest = {
        contents: [{ parts: [{ text: 'n' }] }],
        generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
      };
      expect(() => JSON.parse(sdkView(answerRequest(call(scalar), 'invalid_json')).text ?? '')).toThrow();
    },
  );

  it('max_tokens: a truncated prefix with finishReason MAX_TOKENS', () => {
    const full = sdkView(answerRequest(call(request), null)).text ?? '';
    const answer = response(answerRequest(call(request), 'max_tokens'));
    const text = sdkView(answer).text ?? '';
    expect(full.startsWith(text)).toBe(true);
    expect(text.length).toBeLessThan(full.length);
    expect(() => JSON.parse(text)).toThrow();
    expect(sdkView(answer).candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(answer.outcome).toBe('max_tokens');
  });

  it('a small maxOutputTokens truncates realistically, without any fault; a large one does not', () => {
    const noThinking = { thinkingConfig: { thinkingBudget: 0 } };
    const capped = response(
      answerRequest(call(jsonRequest('Catalog page 3', { maxOutputTokens: 5, ...noThinking })), null),
    );
    expect(capped.outcome).toBe('max_tokens');
    expect(capped.outputTokens).toBeLessThanOrEqual(5);
    expect(sdkView(capped).candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(sdkView(capped).text).toHaveLength(20);
    const roomy = response(
      answerRequest(call(jsonRequest('Catalog page 3', { maxOutputTokens: 8192 })), null),
    );
    expect(roomy.outcome).toBe('ok');
  });

  it('thinking counts against maxOutputTokens: thoughts that fill it leave an empty answer cut off', () => {
    const starved = response(
      answerRequest(call(jsonRequest('Catalog page 3', { maxOutputTokens: 40 })), null),
    );
    expect(starved).toMatchObject({ outcome: 'max_tokens', outputTokens: 0, thoughtsTokens: 40 });
    expect(sdkView(starved).candidates?.[0]).toMatchObject({ finishReason: 'MAX_TOKENS' });
    expect(sdkView(starved).text).toBeUndefined();
    expect(starved.response.usageMetadata).toMatchObject({ thoughtsTokenCount: 40 });
    for (const limit of [60, 120, 240, 8192]) {
      const answer = response(
        answerRequest(call(jsonRequest('Catalog page 3', { maxOutputTokens: limit })), null),
      );
      expect(answer.thoughtsTokens).toBeGreaterThan(0);
      expect(answer.thoughtsTokens + answer.outputTokens).toBeLessThanOrEqual(limit);
      if (answer.outcome === 'ok') expect(sdkView(answer).candidates?.[0]?.finishReason).toBe('STOP');
      else expect(answer.outcome).toBe('max_tokens');
    }
    const roomy = response(
      answerRequest(call(jsonRequest('Catalog page 3', { maxOutputTokens: 8192 })), null),
    );
    expect(roomy.outcome).toBe('ok');
  });

  it('safety: a SAFETY candidate with no content and a HIGH, blocked rating', () => {
    const answer = response(answerRequest(call(request), 'safety'));
    const sdk = sdkView(answer);
    expect(sdk.text).toBeUndefined();
    const candidate = sdk.candidates?.[0];
    expect(candidate?.finishReason).toBe('SAFETY');
    expect(candidate?.content).toBeUndefined();
    expect(candidate?.safetyRatings).toContainEqual({
      category: 'HARM_CATEGORY_DANGEROUS_CONTENT',
      probability: 'HIGH',
      blocked: true,
    });
    expect(answer).toMatchObject({ outcome: 'safety', outputTokens: 0 });
    expect(sdk.usageMetadata).toMatchObject({
      promptTokenCount: answer.inputTokens,
      totalTokenCount: answer.inputTokens,
    });
    expect(sdk.usageMetadata?.candidatesTokenCount).toBeUndefined();
  });

  it('empty: candidates [] with usageMetadata', () => {
    const answer = response(answerRequest(call(request), 'empty'));
    expect(answer.response.candidates).toEqual([]);
    expect(answer.response.usageMetadata).toMatchObject({ promptTokenCount: answer.inputTokens });
    expect(answer).toMatchObject({ outcome: 'empty', outputTokens: 0 });
    expect(sdkView(answer).text).toBeUndefined();
  });

  it('request_error: a google.rpc.Status 500 INTERNAL instead of a response', () => {
    const answer = answerRequest(call(request), 'request_error');
    expect(answer).toEqual({
      kind: 'error',
      error: { code: 500, status: 'INTERNAL', message: expect.stringContaining('internal error') },
    });
  });
});

describe('answerRequest with a responder', () => {
  const request = jsonRequest('Catalog page 4');

  it("shapes a responder's text like the synthetic one's, faults included", () => {
    const text = JSON.stringify({ courses: [], carry_over: 'custom' });
    const seen: ModelCall[] = [];
    const responder = (received: ModelCall) => {
      seen.push(received);
      return { text };
    };
    const ok = response(answerRequest(call(request), null, responder));
    expect(sdkView(ok).text).toBe(text);
    expect(ok).toMatchObject({ outcome: 'ok', outputTokens: Math.ceil(text.length / 4) });
    expect(seen[0]).toMatchObject({ key: 'page-1', seed: 1, model: 'gemini-2.5-flash' });
    expect(sdkView(answerRequest(call(request), 'max_tokens', responder)).candidates?.[0]?.finishReason).toBe(
      'MAX_TOKENS',
    );
  });

  it('reports a responder text that is not JSON in JSON mode as invalid_json', () => {
    expect(
      response(answerRequest(call(request), null, () => ({ text: 'Sure! Here is the JSON:' }))).outcome,
    ).toBe('invalid_json');
  });

  it('passes a full response through, completing usage, modelVersion and responseId, and reads its outcome', () => {
    const given = {
      candidates: [
        { content: { role: 'model', parts: [{ text: 'abcdefgh' }] }, finishReason: 'MAX_TOKENS', index: 0 },
      ],
    };
    const answer = response(answerRequest(call(request), null, () => ({ response: given })));
    expect(answer.response.candidates).toEqual(given.candidates);
    expect(answer).toMatchObject({ outcome: 'max_tokens', outputTokens: 2 });
    expect(answer.response).toMatchObject({
      modelVersion: 'gemini-2.5-flash',
      usageMetadata: { candidatesTokenCount: 2 },
    });
    expect(typeof answer.response.responseId).toBe('string');
  });

  it('falls back to the synthetic model when the responder returns undefined', () => {
    expect(answerRequest(call(request), null, () => undefined)).toEqual(answerRequest(call(request), null));
  });
});
