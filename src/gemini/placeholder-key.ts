import { registerSecret } from '../secrets/redact.js';

/**
 * The key sent to an emulator when the user has none (the SDK will not build a client without
 * one). It is no secret: registered as one, the word "emulator" was redacted from every message,
 * log line and stored prompt of a run against the emulator ("a `wavebatch [redacted]` URL").
 */
export const PLACEHOLDER_API_KEY = 'emulator';

/** Registers a key to be redacted by value wherever it is printed or stored; not the placeholder. */
export function registerApiKey(key: string | undefined): void {
  if (key !== PLACEHOLDER_API_KEY) registerSecret(key);
}
