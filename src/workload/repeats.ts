import { SourceError } from './errors.js';
import type { WorkloadRecord } from './record.js';

/** SOURCE_DUPLICATE_ID naming the two places (`data.jsonl line 2`) that hold `id`. */
export function duplicateIdError(id: string, first: string, second: string): SourceError {
  return new SourceError(
    'SOURCE_DUPLICATE_ID',
    `${first} and ${second} both have id ${JSON.stringify(id)}: ids must be unique (each names ` +
      'one output file); remove or rename one',
  );
}

/** SOURCE_DUPLICATE_POSITION naming the two places at one position of one chain. */
export function duplicatePositionError(
  record: Pick<WorkloadRecord, 'chainId' | 'position'>,
  first: string,
  second: string,
): SourceError {
  return new SourceError(
    'SOURCE_DUPLICATE_POSITION',
    `${first} and ${second} are both at position ${record.position} of chain ${JSON.stringify(record.chainId)}: ` +
      'positions order a chain, so they must differ within it; fix one',
  );
}

/**
 * Finds a repeated id or chain position in one pass over a source held nowhere else (`estimate`;
 * the sync finds them in the store's tables). Only the ids and places are kept, not where each was:
 * on a repeat the source is read again up to it to name the first place.
 */
export class RepeatFinder {
  private readonly ids = new Set<string>();
  private readonly places = new Set<string>();

  /** Throws SOURCE_DUPLICATE_ID / _POSITION, naming both places, when `record` repeats an earlier one. */
  async check(record: WorkloadRecord, source: () => AsyncIterable<WorkloadRecord>): Promise<void> {
    const place = `${record.chainId}\u0000${record.position}`;
    const repeatsId = this.ids.has(record.id);
    if (!repeatsId && !this.places.has(place)) {
      this.ids.add(record.id);
      this.places.add(place);
      return;
    }
    const second = record.origin ?? 'a later record';
    for await (const earlier of source()) {
      const first = earlier.origin ?? 'an earlier record';
      if (repeatsId && earlier.id === record.id) throw duplicateIdError(record.id, first, second);
      if (!repeatsId && earlier.chainId === record.chainId && earlier.position === record.position)
        throw duplicatePositionError(record, first, second);
    }
    throw duplicateIdError(record.id, 'an earlier record', second);
  }
}
