/*
 * The fields of a GenerateContentRequest's generationConfig and its thinkingConfig that Google's
 * JSON parser knows (camelCase; proto JSON takes each in snake_case too): every field @google/genai
 * 3.x sends in Gemini Developer API mode and the REST reference's own. The config refuses any other
 * name in `model.generation_config` (the SDK's converter drops a `temprature` without a word, so the
 * run would go on without it), and the emulator answers one with Google's 400 "Unknown name".
 */

export const GENERATION_CONFIG_FIELDS = [
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
  'audioTranscriptionConfig',
  // Accepted here too: REST callers and older SDKs put the tier in generationConfig.
  'serviceTier',
] as const;

export const THINKING_CONFIG_FIELDS = ['includeThoughts', 'thinkingBudget', 'thinkingLevel'] as const;
