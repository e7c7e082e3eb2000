import type { GoogleGenAI, GoogleGenAIOptions } from '@google/genai';
import { WavebatchError } from '../errors.js';

/**
 * What the SDK's constructor prints about its own environment lookups. It reads GEMINI_API_KEY and
 * GOOGLE_API_KEY even when given a key, and printed "Both … are set. Using GOOGLE_API_KEY." from a
 * library that must not print, naming a key it did not use (wavebatch reads GEMINI_API_KEY first).
 */
const SDK_ENVIRONMENT_WARNINGS: ReadonlySet<string> = new Set([
  'Both GOOGLE_API_KEY and GEMINI_API_KEY are set. Using GOOGLE_API_KEY.',
  'API key should be set when using the Gemini API.',
  'Warning: Both GOOGLE_GENAI_USE_ENTERPRISE and GOOGLE_GENAI_USE_VERTEXAI are set with conflicting values. The value of GOOGLE_GENAI_USE_ENTERPRISE will be used.',
]);

/** Raised when a Gemini client is asked for without a key: the SDK would look for Google Cloud credentials instead. */
export class ClientApiKeyError extends WavebatchError {
  readonly code = 'API_KEY_MISSING';
  constructor() {
    super(
      'createGeminiClient needs options.apiKey (a non-empty string): read it from GEMINI_API_KEY or wherever ' +
        'the program keeps it; for the emulator any non-empty key will do.',
    );
  }
}

/** Throws API_KEY_MISSING unless `apiKey` is a non-blank string: without one the SDK would look for Google Cloud credentials. */
export function requireApiKey(apiKey: unknown): void {
  if (typeof apiKey !== 'string' || apiKey.trim() === '') throw new ClientApiKeyError();
}

/**
 * The SDK's client for the Gemini API, configured by the options alone: always the Gemini API, never
 * Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true in the environment switched it and every call was a 404),
 * always the given key (without one the SDK asked the cloud metadata server for credentials), and
 * nothing printed about the environment variables it reads on its own. The SDK is imported here, at
 * the first client's first call, not when wavebatch loads.
 */
export async function sdkClient(options: GoogleGenAIOptions & { apiKey: string }): Promise<GoogleGenAI> {
  requireApiKey(options.apiKey);
  const { GoogleGenAI: Client } = await import('@google/genai');
  const warn = console.warn;
  // The constructor is synchronous: nothing else runs while the filter is in place.
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && SDK_ENVIRONMENT_WARNINGS.has(args[0])) return;
    warn.apply(console, args);
  };
  try {
    return new Client({ ...options, vertexai: false });
  } finally {
    console.warn = warn;
  }
}
