/**
 * The models the emulator serves: the one list of names it knows. A name not on it (nor added with
 * the `models` option) is refused with Google's 404, as the real API refuses a typo.
 */

/** How a model thinks: never, only when asked, unless told not to, or always (a budget of 0 is refused). */
export type Thinking = 'none' | 'off-by-default' | 'on-by-default' | 'always';

/** A model the emulator serves. */
export interface CatalogModel {
  name: string;
  thinking: Thinking;
  /** The most prompt tokens a request may hold; Google refuses a longer prompt with a 400. */
  inputTokenLimit: number;
  /**
   * The thinkingBudget values the model takes besides -1 (dynamic) and, unless it always thinks, 0
   * (off): DOCS thinking, "the thinkingBudget must be an integer in the range …". Google refuses
   * another with a 400; left out where the docs give no range (aliases, Gemini 3).
   */
  thinkingBudget?: { min: number; max: number };
}

/**
 * The input token limit of every model listed below (ai.google.dev/gemini-api/docs/models: "Input
 * token limit 1,048,576" on each model's page; Vertex AI's pages give the same), and of a user's own.
 */
const ONE_MILLION_CONTEXT = 1_048_576;

/**
 * Models of the Gemini Developer API (ai.google.dev/gemini-api/docs/models and docs/thinking, 2025-10
 * and 2026 copies): 2.5 Pro always thinks, 2.5 Flash thinks unless `thinkingBudget: 0`, 2.5
 * Flash-Lite thinks only when given a budget, Gemini 3 models always think, 2.0 models never do.
 * Every model the project's workloads, tests and price list use is here.
 */
const MODELS: readonly CatalogModel[] = [
  {
    name: 'gemini-2.5-pro',
    thinking: 'always',
    inputTokenLimit: ONE_MILLION_CONTEXT,
    thinkingBudget: { min: 128, max: 32_768 },
  },
  {
    name: 'gemini-2.5-flash',
    thinking: 'on-by-default',
    inputTokenLimit: ONE_MILLION_CONTEXT,
    thinkingBudget: { min: 1, max: 24_576 },
  },
  {
    name: 'gemini-2.5-flash-lite',
    thinking: 'off-by-default',
    inputTokenLimit: ONE_MILLION_CONTEXT,
    thinkingBudget: { min: 512, max: 24_576 },
  },
  {
    name: 'gemini-2.5-flash-preview-09-2025',
    thinking: 'on-by-default',
    inputTokenLimit: ONE_MILLION_CONTEXT,
  },
  {
    name: 'gemini-2.5-flash-lite-preview-09-2025',
    thinking: 'off-by-default',
    inputTokenLimit: ONE_MILLION_CONTEXT,
  },
  { name: 'gemini-flash-latest', thinking: 'on-by-default', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-flash-lite-latest', thinking: 'off-by-default', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-pro-latest', thinking: 'always', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-3-pro-preview', thinking: 'always', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-3-flash-preview', thinking: 'always', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-2.0-flash', thinking: 'none', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-2.0-flash-001', thinking: 'none', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-2.0-flash-lite', thinking: 'none', inputTokenLimit: ONE_MILLION_CONTEXT },
  { name: 'gemini-2.0-flash-lite-001', thinking: 'none', inputTokenLimit: ONE_MILLION_CONTEXT },
];

/** The model names the emulator serves by default. */
export const MODEL_NAMES: readonly string[] = MODELS.map((model) => model.name);

/** A model name without the `models/` prefix the REST paths carry. */
export function bareModelName(model: string): string {
  return model.replace(/^models\//, '');
}

/**
 * The listed model of that name; `extra` names (the emulator's `models` option: a test's or a
 * user's own model) are served too, do not think, and take a million-token prompt.
 */
export function catalogModel(model: string, extra: readonly string[] = []): CatalogModel | undefined {
  const name = bareModelName(model);
  const listed = MODELS.find((entry) => entry.name === name);
  if (listed) return listed;
  return extra.some((entry) => bareModelName(entry) === name)
    ? { name, thinking: 'none', inputTokenLimit: ONE_MILLION_CONTEXT }
    : undefined;
}

/** How `model` thinks; 'none' for a name the catalog does not list. */
export function thinkingOf(model: string): Thinking {
  return catalogModel(model)?.thinking ?? 'none';
}

/** The most prompt tokens `model` takes: its listed limit, else (a user's own model) a million. */
export function inputTokenLimitOf(model: string): number {
  return catalogModel(model)?.inputTokenLimit ?? ONE_MILLION_CONTEXT;
}
