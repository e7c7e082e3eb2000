import { WavebatchError } from '../errors.js';
/** A state-store failure; the message says which file and what to do. */
export class StoreError extends WavebatchError {
  /**
   * STORE_CORRUPT: the file is not a SQLite database, or a damaged one. STORE_BUSY: another process
   * held the write lock for longer than the busy timeout. STORE_WRITE: SQLite refused a write for
   * another reason (a full disk, a read-only file, an I/O error).
   */
  readonly code:
    'STORE_OPEN' | 'STORE_SCHEMA' | 'STORE_CONFLICT' | 'STORE_CORRUPT' | 'STORE_BUSY' | 'STORE_WRITE';
  constructor(code: StoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
