import type { OutputDocument, OutputSink } from '../outputs/index.js';
import { redactValue } from '../secrets/redact.js';
import type { StoredEvent } from '../store/event-log.js';

/**
 * Reads back the outputs the inference log refers to instead of holding (`outputLocation`: the
 * JSONL sink's lines), redacted as the log's own copies are. A line that is gone, or that is no
 * longer this attempt's (a shard cut by hand and written again since), leaves `output` unset and
 * says why in `outputUnavailable`: the log never shows another attempt's output as this one's.
 */
export async function readEventOutputs(
  events: StoredEvent[],
  outputs: Pick<OutputSink, 'read'>,
): Promise<StoredEvent[]> {
  for (const event of events) {
    const location = event.outputLocation;
    if (!location || event.output !== undefined || event.recordId === null) continue;
    const where = `line at byte ${location.offset} of shard ${location.shard}`;
    let document: OutputDocument | null;
    try {
      document = await outputs.read(event.recordId, location);
    } catch (error) {
      event.outputUnavailable = `the ${where} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
      continue;
    }
    if (document && isThisAttempts(document, event)) event.output = redactValue(document.output);
    else event.outputUnavailable = `the ${where} no longer holds this attempt's output`;
  }
  return events;
}

/** The document of the attempt the event logs: its record (checked by the read), attempt and prompt. */
function isThisAttempts(document: OutputDocument, event: StoredEvent): boolean {
  // A line edited by hand may lack its metadata: then it is not known to be this attempt's.
  const meta = document.meta as Partial<OutputDocument['meta']> | undefined;
  return meta?.attempt === event.attempt && meta.prompt?.hash === event.promptHash;
}
