import type { OutputDocument } from './output-store.js';
import type { OutputLocation, OutputSink } from './sink.js';
import { redactValue } from '../secrets/redact.js';
import type { StoredEvent } from '../store/event-log.js';
import { describeError } from '../errors.js';

/** An event whose output is kept at a location (a JSONL line), not in the event. */
type LocatedEvent = StoredEvent & { recordId: string; outputLocation: OutputLocation };

/**
 * Reads back the outputs the inference log refers to instead of holding (`outputLocation`: the
 * JSONL sink's lines), redacted as the log's own copies are. A line that is gone, or that is no
 * longer this attempt's (a shard cut by hand and written again since), leaves `output` unset and
 * says why in `outputUnavailable`: the log never shows another attempt's output as this one's.
 *
 * The lines of the events given are read together where the sink can (`readMany`: a page of a
 * million-event log in a few reads, not one read per event); should any of them fail, they are
 * read one by one instead, so each event says what is wrong with its own line.
 */
export async function readEventOutputs(
  events: StoredEvent[],
  outputs: Pick<OutputSink, 'read'> & Partial<Pick<OutputSink, 'readMany'>>,
): Promise<StoredEvent[]> {
  const located = events.filter(
    (event): event is LocatedEvent =>
      event.outputLocation !== undefined && event.output === undefined && event.recordId !== null,
  );
  if (located.length === 0) return events;
  const documents = await readTogether(located, outputs);
  for (const event of located) {
    const where = `line at byte ${event.outputLocation.offset} of shard ${event.outputLocation.shard}`;
    let document: OutputDocument | null;
    try {
      const read = documents?.get(lineKey(event.recordId, event.outputLocation));
      document = read !== undefined ? read : await outputs.read(event.recordId, event.outputLocation);
    } catch (error) {
      event.outputUnavailable = `the ${where} cannot be read: ${describeError(error)}`;
      continue;
    }
    if (document && isThisAttempts(document, event)) event.output = redactValue(document.output);
    else event.outputUnavailable = `the ${where} no longer holds this attempt's output`;
  }
  return events;
}

/** The events' lines read in one pass, by record and location; null when the pass failed. */
async function readTogether(
  events: readonly LocatedEvent[],
  outputs: Partial<Pick<OutputSink, 'readMany'>>,
): Promise<Map<string, OutputDocument | null> | null> {
  if (!outputs.readMany || events.length < 2) return null;
  const documents = new Map<string, OutputDocument | null>();
  try {
    const wanted = events.map((event) => ({ id: event.recordId, location: event.outputLocation }));
    for await (const { id, location, document } of outputs.readMany(wanted))
      if (location) documents.set(lineKey(id, location), document);
    return documents;
  } catch {
    // One line cannot be read: each event's line is read alone, to say which and why.
    return null;
  }
}

function lineKey(id: string, location: OutputLocation): string {
  return `${location.shard}:${location.offset}:${location.length}:${id}`;
}

/** The document of the attempt the event logs: its record (checked by the read), attempt and prompt. */
function isThisAttempts(document: OutputDocument, event: StoredEvent): boolean {
  // A line edited by hand may lack its metadata: then it is not known to be this attempt's.
  const meta = document.meta as Partial<OutputDocument['meta']> | undefined;
  return meta?.attempt === event.attempt && meta.prompt?.hash === event.promptHash;
}
