import { Hono } from 'hono';
import {
  answerRequest,
  countRequestTokens,
  priceOf,
  promptTextOf,
  requestTokenDetails,
  type WireGenerateRequest,
} from './model/index.js';
import { quotaErrorBody } from './quotas.js';
import { timestamp } from './clock.js';
import { invalidArgument } from './google-error.js';
import { fileReferenceError, fileResolver } from './file-references.js';
import { isJsonObject } from './json-object.js';
import { injectFaults, jsonBody, withoutMethod, type EmulatorState, type Env } from './http-context.js';

/** Real-time calls: `models/{model}:generateContent` (billed, rate limited) and `:countTokens` (free). */
export function modelRoutes(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();

  app.post(
    '/:version{v1beta|v1}/models/:model{[^/:]+:generateContent}',
    injectFaults(state, 'generate'),
    async (c) => {
      const model = withoutMethod(c.req.param('model'));
      const request = generateRequestOf(await jsonBody(c), 'GenerateContentRequest');
      requireFiles(state, request);
      const resolveFile = fileResolver(state.files);
      const inputTokens = countRequestTokens(request, resolveFile);
      const refusal = state.limiter.check(model, inputTokens);
      // The quota windows run on emulated time; the client waits in real time.
      if (refusal) return c.json(quotaErrorBody(refusal, refusal.retryDelayMs / state.timeScale), 429);
      const answer = answerRequest(
        { model, request, key: null, seed: state.seed, resolveFile },
        state.faults.recordFault(null),
        state.responder(),
      );
      if (answer.kind === 'error')
        return c.json({ error: answer.error }, answer.error.code === 400 ? 400 : 500);
      state.ledger.record({
        at: timestamp(state.clock.now()),
        mode: 'realtime',
        model,
        key: null,
        batchName: null,
        promptText: promptTextOf(request),
        inputTokens: answer.inputTokens,
        outputTokens: answer.outputTokens,
        outcome: answer.outcome,
        costUsd: priceOf(model, answer.inputTokens, answer.outputTokens, 'realtime'),
      });
      return c.json(answer.response);
    },
  );

  app.post(
    '/:version{v1beta|v1}/models/:model{[^/:]+:countTokens}',
    injectFaults(state, 'count'),
    async (c) => {
      const body = await jsonBody(c);
      // The SDK sends `contents`; the REST API also takes a whole `generateContentRequest`.
      const wrapped =
        isJsonObject(body) && isJsonObject(body.generateContentRequest) ? body.generateContentRequest : body;
      const request = generateRequestOf(wrapped, 'CountTokensRequest');
      requireFiles(state, request);
      const details = requestTokenDetails(request, fileResolver(state.files));
      const totalTokens = details.reduce((sum, detail) => sum + detail.tokenCount, 0);
      return c.json({ totalTokens, promptTokensDetails: details });
    },
  );

  return app;
}

/**
 * A fileData part naming a file that is gone (Google's 403) or not yet ACTIVE (400
 * FAILED_PRECONDITION) is refused before anything is counted or billed.
 */
function requireFiles(state: EmulatorState, request: WireGenerateRequest): void {
  const refusal = fileReferenceError(request, state.files);
  if (refusal !== undefined) throw refusal;
}

function generateRequestOf(body: unknown, what: string): WireGenerateRequest {
  if (!isJsonObject(body) || !Array.isArray(body.contents) || body.contents.length === 0) {
    throw invalidArgument(`* ${what}.contents: contents is not specified`);
  }
  return body as WireGenerateRequest;
}
