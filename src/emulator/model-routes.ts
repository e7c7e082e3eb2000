import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  answerRequest,
  countRequestTokens,
  requestTokenDetails,
  type WireGenerateRequest,
} from './model/index.js';
import { quotaErrorBody } from './quotas.js';
import { waitUntil } from './clock.js';
import { GoogleError, MAX_REQUEST_BYTES, unknownFields } from './google-error.js';
import { unknownCountTokensFields } from './request-fields.js';
import { requestedTier, shedError } from './service-tiers.js';
import { billAnswer } from './billing.js';
import {
  functionCallingRefusal,
  generateRequestOf,
  inputTokenRefusal,
  requireModel,
} from './request-checks.js';
import { fileReferenceError, fileResolver } from './file-references.js';
import { isJsonObject } from './json-object.js';
import { API_VERSION, injectFaults, jsonBody, type EmulatorState, type Env } from './http-context.js';

/** Real-time calls: `models/{model}:generateContent` (billed, rate limited) and `:countTokens` (free). */
export function modelRoutes(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();

  app.post(
    `/${API_VERSION}/models/:model{[^/:]+:generateContent}`,
    injectFaults(state, 'generate'),
    async (c) => {
      const model = requireModel(c, 'generateContent', state.models);
      const request = generateRequestOf(
        await jsonBody(c, MAX_REQUEST_BYTES),
        'GenerateContentRequest',
        model,
      );
      const unsupported = functionCallingRefusal(model, request);
      if (unsupported) throw unsupported;
      const tier = requestedTier(request);
      requireFiles(state, request);
      const resolveFile = fileResolver(state.files);
      const inputTokens = countRequestTokens(request, resolveFile);
      // A prompt the model cannot take is refused outright: not billed, nor counted against a quota.
      const tooLong = inputTokenRefusal(model, inputTokens);
      if (tooLong) throw tooLong;
      const admission = state.tiers.admit(model, tier, inputTokens);
      // The quota windows run on emulated time; the client waits in real time.
      if ('refused' in admission)
        return c.json(
          quotaErrorBody(
            admission.refused,
            admission.refused.retryDelayMs / state.timeScale,
            state.retryDelayPrecision,
          ),
          429,
        );
      const served = admission.served;
      if (state.tiers.shed(served)) throw shedError();
      const answer = answerRequest(
        { model, request, key: null, seed: state.seed, resolveFile },
        state.faults.recordFault(null),
        state.responder(),
      );
      // HTTP status = error.code, as every Google error (a responder's 429 or 503 came back as 500,
      // so a test of quota or overload handling exercised the handling of a server fault).
      if (answer.kind === 'error') return c.json({ error: answer.error }, httpStatusOf(answer.error.code));
      // The answer takes the tier's latency on the emulated clock. It is billed once done even when
      // the caller gave up waiting (Google finishes, and bills, what it started); not when the
      // emulator closes first, as a crashed server bills nothing.
      const doneAt = state.clock.now() + state.tiers.latencyMs(served);
      if (!(await waitUntil(state.clock, doneAt, state.closing)))
        throw new GoogleError('UNAVAILABLE', 'The service is shutting down.');
      billAnswer(state.ledger, {
        at: doneAt,
        lane: served,
        model,
        key: null,
        batchName: null,
        request,
        answer,
      });
      return c.json(withServiceTier(answer.response, served));
    },
  );

  app.post(`/${API_VERSION}/models/:model{[^/:]+:countTokens}`, injectFaults(state, 'count'), async (c) => {
    const model = requireModel(c, 'countTokens', state.models);
    const body = await jsonBody(c, MAX_REQUEST_BYTES);
    const unknown = isJsonObject(body) ? unknownCountTokensFields(body) : [];
    if (unknown.length > 0) throw unknownFields(unknown);
    // The SDK sends `contents`; the REST API also takes a whole `generateContentRequest`.
    const whole = isJsonObject(body)
      ? (body.generateContentRequest ?? body.generate_content_request)
      : undefined;
    const wrapped = isJsonObject(whole) ? whole : body;
    const request = generateRequestOf(wrapped, 'CountTokensRequest', model);
    requireFiles(state, request);
    const details = requestTokenDetails(request, fileResolver(state.files));
    const totalTokens = details.reduce((sum, detail) => sum + detail.tokenCount, 0);
    return c.json({ totalTokens, promptTokensDetails: details });
  });

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

/** The response with usageMetadata.serviceTier: the tier that served it, as Google reports it. */
function withServiceTier(response: Record<string, unknown>, tier: string): Record<string, unknown> {
  const usage = isJsonObject(response.usageMetadata) ? response.usageMetadata : {};
  return { ...response, usageMetadata: { ...usage, serviceTier: tier } };
}

/** The HTTP status an error's code stands for: the code itself when it is one, else 500. */
function httpStatusOf(code: number): ContentfulStatusCode {
  return Number.isInteger(code) && code >= 400 && code <= 599 ? (code as ContentfulStatusCode) : 500;
}
