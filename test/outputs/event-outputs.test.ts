import { describe, expect, it } from 'vitest';
import type { CommittedOutput, OutputDocument, OutputLocation } from '../../src/outputs/index.js';
import { readEventOutputs } from '../../src/outputs/event-outputs.js';
import type { StoredEvent } from '../../src/store/event-log.js';

/** A success of `recordId` whose output is the line at `offset` of shard 1. */
function success(id: number, recordId: string, offset: number): StoredEvent {
  return {
    id,
    kind: 'attempt',
    type: 'done',
    recordId,
    attempt: 0,
    promptHash: 'p',
    outputLocation: { shard: 1, offset, length: 10 },
  } as StoredEvent;
}

function documentAt(id: string, location: OutputLocation): OutputDocument {
  return {
    id,
    output: { at: location.offset },
    meta: { attempt: 0, prompt: { hash: 'p' } },
  } as OutputDocument;
}

describe('readEventOutputs', () => {
  it("reads a page's lines in one pass, each event given the line at its own location", async () => {
    const reads: string[] = [];
    const passes: CommittedOutput[][] = [];
    const outputs = {
      read: async (id: string, location: OutputLocation | null) => {
        reads.push(id);
        return location && documentAt(id, location);
      },
      async *readMany(wanted: readonly CommittedOutput[]) {
        passes.push([...wanted]);
        // In the sink's own order, not the events'.
        for (const entry of [...wanted].reverse())
          yield { ...entry, document: entry.location && documentAt(entry.id, entry.location) };
      },
    };
    // The same record twice (redone since): each event its own line.
    const events = [success(1, 'a', 0), success(2, 'b', 10), success(3, 'a', 20)];
    await readEventOutputs(events, outputs);
    expect(events.map((event) => event.output)).toEqual([{ at: 0 }, { at: 10 }, { at: 20 }]);
    expect(passes).toHaveLength(1);
    expect(reads).toEqual([]);
  });

  it('reads each line alone when the pass fails, so each event says what is wrong with its own', async () => {
    const outputs = {
      read: async (id: string, location: OutputLocation | null) => {
        if (id === 'b') throw new Error('not valid JSON');
        return location && documentAt(id, location);
      },
      // eslint-disable-next-line require-yield
      async *readMany(): AsyncIterable<CommittedOutput & { document: OutputDocument | null }> {
        throw new Error('not valid JSON');
      },
    };
    const events = [success(1, 'a', 0), success(2, 'b', 10)];
    await readEventOutputs(events, outputs);
    expect(events[0]?.output).toEqual({ at: 0 });
    expect(events[1]?.output).toBeUndefined();
    expect(events[1]?.outputUnavailable).toBe(
      'the line at byte 10 of shard 1 cannot be read: not valid JSON',
    );
  });
});
