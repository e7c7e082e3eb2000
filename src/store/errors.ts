import { WavebatchError } from '../errors.js';
/** A state-store failure; the message says which file and what to do. */
export class StoreError extends WavebatchError {
  readonly code: 'STORE_OPEN' | 'STORE_SCHEMA' | 'STORE_CONFLICT';
  constructor(code: StoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
