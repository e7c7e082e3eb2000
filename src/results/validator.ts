import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2019 } from 'ajv/dist/2019.js';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { shortenText } from './capped-text.js';
import { WavebatchError } from '../errors.js';

/** Checks a model output: JSON against the response schema, or anything when outputs are text. */
export interface OutputValidator {
  /** True when outputs must be JSON (a response schema is configured). */
  expectsJson: boolean;
  validate(value: unknown): { ok: true } | { ok: false; message: string };
}

/** Raised when the configured response schema is not a JSON Schema Ajv can compile. */
export class SchemaError extends WavebatchError {
  readonly code = 'CONFIG_SCHEMA_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** How many schema errors a mismatch message lists before summarising the rest. */
const MAX_LISTED_ERRORS = 5;
const MAX_ERROR_TEXT = 200;

/**
 * A validator for the response schema. No schema means text outputs: everything is valid. The Ajv
 * dialect follows `$schema` (2020-12, 2019-09, else draft-07, as the config loader does); unknown
 * keywords (Gemini's propertyOrdering) and formats are tolerated, since Gemini enforces formats itself.
 */
export function createValidator(schema: unknown | undefined): OutputValidator {
  if (schema === undefined || schema === null) return { expectsJson: false, validate: () => ({ ok: true }) };
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || Array.isArray(schema))) {
    throw new SchemaError(
      `The response schema must be a JSON Schema object, not ${Array.isArray(schema) ? 'an array' : typeof schema}.`,
    );
  }
  let check: ValidateFunction;
  try {
    check = ajvFor(schema).compile(schema as object);
  } catch (error) {
    throw new SchemaError(
      `The response schema is not a valid JSON Schema: ${(error as Error).message}. Fix model.response_schema.`,
      {
        cause: error,
      },
    );
  }
  return {
    expectsJson: true,
    validate(value: unknown) {
      if (check(value)) return { ok: true };
      return { ok: false, message: describeErrors(check.errors ?? []) };
    },
  };
}

/**
 * Ajv (some hundred modules) is required when a schema is first compiled, not when this module loads:
 * every command reached it through the config and the runner, and `status`, `--help` or a refused
 * flag paid for it at start. `require`, not `import()`: Ajv is CommonJS, and createValidator stays
 * synchronous for its callers.
 */
const load = createRequire(import.meta.url);

function ajvFor(schema: unknown): Ajv {
  const dialect =
    typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  const options = { strict: false, allErrors: true, validateFormats: false, logger: false } as const;
  if (typeof dialect === 'string' && dialect.includes('2020-12')) {
    const { Ajv2020: Draft2020 } = load('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
    return new Draft2020(options);
  }
  if (typeof dialect === 'string' && dialect.includes('2019-09')) {
    const { Ajv2019: Draft2019 } = load('ajv/dist/2019.js') as { Ajv2019: typeof Ajv2019 };
    return new Draft2019(options);
  }
  const { Ajv: Draft07 } = load('ajv') as { Ajv: typeof Ajv };
  return new Draft07(options);
}

/** `"/courses/0/code must be string; / must have required property 'carry_over'; … (+3 more)"`. */
function describeErrors(errors: ErrorObject[]): string {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map((error) => {
    const where = error.instancePath === '' ? '/' : error.instancePath;
    const detail =
      error.keyword === 'additionalProperties'
        ? `${error.message} '${String(error.params.additionalProperty)}'`
        : error.message;
    return shortenText(`${where} ${detail ?? `fails ${error.keyword}`}`, MAX_ERROR_TEXT);
  });
  const more = errors.length > MAX_LISTED_ERRORS ? ` (+${errors.length - MAX_LISTED_ERRORS} more)` : '';
  return `${listed.join('; ')}${more}`;
}
