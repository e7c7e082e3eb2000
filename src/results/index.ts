/**
 * Results: streaming batch results files, validating outputs against the response schema, and
 * classifying each result as a usable output or a named failure cause.
 */
export {
  classifyResult,
  MAX_RAW_BYTES,
  type FailureCause,
  type ResultInput,
  type ResultOutcome,
  type Usage,
} from './classification.js';
export {
  classifyGroupResult,
  divideUsage,
  GROUP_ANSWER_VALIDATOR,
  groupResponseSchema,
  type GroupItem,
  itemParts,
  splitGroupOutcome,
} from './grouped-answer.js';
export { jsonSchemaForModel, modelSchemaProblems, type ModelSchemaProblem } from './model-schema.js';
export { MAX_RAW_LINE_BYTES, readResultLines, type ResultLine } from './result-lines.js';
export { usageOf } from './response.js';
export { createValidator, SchemaError, type OutputValidator } from './validator.js';
