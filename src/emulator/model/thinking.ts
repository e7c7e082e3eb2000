import { isJsonObject } from '../json-object.js';
import { contentRandom, randomInteger } from '../seeded-random.js';
import { bareModelName, catalogModel, type Thinking } from './catalog.js';
import { fieldOf, generationConfigOf, promptTextOf, type WireGenerateRequest } from './wire-request.js';

/** Thinking tokens a thinking model spends at least on an answer (a short one still takes some). */
const MIN_THOUGHTS = 64;

/** `generationConfig.thinkingConfig.thinkingBudget` as sent (-1 = dynamic), or undefined. */
export function thinkingBudgetOf(request: WireGenerateRequest): number | undefined {
  const config = fieldOf(generationConfigOf(request), 'thinkingConfig');
  if (!isJsonObject(config)) return undefined;
  const budget = Number(fieldOf(config, 'thinkingBudget'));
  return Number.isInteger(budget) ? budget : undefined;
}

/** Whether `generationConfig.thinkingConfig.includeThoughts` asks for thought summaries. */
export function includeThoughtsOf(request: WireGenerateRequest): boolean {
  const config = fieldOf(generationConfigOf(request), 'thinkingConfig');
  return isJsonObject(config) && fieldOf(config, 'includeThoughts') === true;
}

/**
 * Google's refusal of the request's thinkingConfig for `model`, or undefined: a budget and a level
 * both set ("You can only set only one of thinking budget and thinking level.", eclipse-peon-ai#115);
 * `thinkingBudget: 0` on a model that only works in thinking mode (2.5 Pro, Gemini 3); a budget
 * outside the model's documented range ("The thinking budget (52428) is invalid.", Roo-Code#4399).
 */
export function thinkingRefusal(model: string, request: WireGenerateRequest): string | undefined {
  const config = fieldOf(generationConfigOf(request), 'thinkingConfig');
  const level = isJsonObject(config) ? fieldOf(config, 'thinkingLevel') : undefined;
  const budget = thinkingBudgetOf(request);
  if (budget !== undefined && level !== undefined)
    return 'You can only set only one of thinking budget and thinking level.';
  const listed = catalogModel(model);
  if (listed?.thinking === 'always' && budget === 0)
    return 'Budget 0 is invalid. This model only works in thinking mode.';
  const range = listed?.thinkingBudget;
  if (range && budget !== undefined && budget !== -1 && budget !== 0) {
    if (budget < range.min || budget > range.max) return `The thinking budget (${budget}) is invalid.`;
  }
  return undefined;
}

/**
 * The thinking tokens spent before an answer of `answerTokens` tokens, deterministic per (seed,
 * model, request): none for a model that does not think (or was told not to), otherwise 64 plus one
 * to three times the answer, capped by a positive `thinkingBudget`. Google bills them as output and
 * reports them as usageMetadata.thoughtsTokenCount.
 */
export function thoughtsTokens(
  thinking: Thinking,
  call: { model: string; request: WireGenerateRequest; seed: number },
  answerTokens: number,
): number {
  if (answerTokens <= 0 || thinking === 'none') return 0;
  const budget = thinkingBudgetOf(call.request);
  if (budget === 0 && thinking !== 'always') return 0;
  if (thinking === 'off-by-default' && budget === undefined) return 0;
  // Drawn from the prompt, not the whole request: the same task thinks as long under any output limit.
  const random = contentRandom(
    call.seed,
    `thoughts\u0000${bareModelName(call.model)}\u0000${promptTextOf(call.request)}`,
  );
  const drawn = MIN_THOUGHTS + randomInteger(random, answerTokens, 3 * answerTokens);
  return budget !== undefined && budget > 0 ? Math.min(drawn, budget) : drawn;
}
