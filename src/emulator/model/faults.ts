/** Every record fault, in a stable order (for seeded rate draws and validation). */
export const RECORD_FAULTS = ['invalid_json', 'max_tokens', 'safety', 'empty', 'request_error'] as const;

/**
 * What can go wrong with one processed request. `request_error` is a google.rpc.Status error in
 * place of a response (not billed); the others are billed responses of the wrong shape.
 */
export type RecordFault = (typeof RECORD_FAULTS)[number];

/** Type guard for values read from a fault plan. */
export function isRecordFault(value: unknown): value is RecordFault {
  return typeof value === 'string' && (RECORD_FAULTS as readonly string[]).includes(value);
}
