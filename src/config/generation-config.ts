import { z } from 'zod';
import { GENERATION_CONFIG_FIELDS, THINKING_CONFIG_FIELDS } from '../gemini/generation-config-fields.js';

/** `top_p` → `topP`: proto JSON takes either spelling, and requests are sent in camelCase. */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The fields whose value is a number: a string there ("hot", "0.2") is Google's 400 for every request. */
const NUMBERS = new Set([
  'temperature',
  'topP',
  'topK',
  'candidateCount',
  'maxOutputTokens',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'logprobs',
  'thinkingBudget',
]);

function checkFields(
  value: Record<string, unknown>,
  fields: readonly string[],
  path: PropertyKey[],
  context: z.core.$RefinementCtx,
): void {
  const known = new Set<string>(fields);
  for (const [key, field] of Object.entries(value)) {
    const name = camel(key);
    if (!known.has(name)) {
      context.addIssue({
        code: 'custom',
        path: [...path, key],
        message: `unknown key: Gemini has no such generation setting (allowed here: ${fields.map(snake).join(', ')})`,
      });
    } else if (NUMBERS.has(name) && (typeof field !== 'number' || !Number.isFinite(field))) {
      context.addIssue({ code: 'custom', path: [...path, key], message: 'expected a number' });
    } else if (name === 'thinkingConfig') {
      if (typeof field !== 'object' || field === null || Array.isArray(field))
        context.addIssue({ code: 'custom', path: [...path, key], message: 'expected a mapping' });
      else checkFields(field as Record<string, unknown>, THINKING_CONFIG_FIELDS, [...path, key], context);
    }
  }
}

/**
 * `model.generation_config`: passed to Gemini as generationConfig, in snake_case or camelCase.
 * A name Gemini does not know (`temprature`) is refused here: the SDK's request converter drops
 * it without a word, so the run went on without the setting the user meant.
 */
export const generationConfig = z
  .record(z.string(), z.unknown(), { error: 'expected a mapping' })
  .superRefine((value, context) => checkFields(value, GENERATION_CONFIG_FIELDS, [], context));
