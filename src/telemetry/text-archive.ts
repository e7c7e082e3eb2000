import { sha256Hex } from '../sha256.js';
import type { EventLog, StoredText } from '../store/event-log.js';
import { redact } from '../secrets/redact.js';

/**
 * Texts written per store transaction: one commit for a round's prompts rather than one per few.
 * (Group prompts are keyed by a random hash, so a larger group also lets one commit write a page of
 * that index once for several texts.) About 2 MB of prompts held.
 */
const SAVE_GROUP = 4096;
/** Hashes remembered as saved; past this the memory is dropped (a repeat save is a no-op anyway). */
const SEEN_LIMIT = 100_000;

/**
 * Keeps each rendered prompt (and generation config) once in the state store, by hash (and, for a
 * record's own request, by record), so an event refers to its prompt instead of repeating it. Texts
 * are buffered and saved a group at a time; `flush` before anything refers to them durably (the
 * runner flushes before it stores job intents).
 */
export class TextArchive {
  private pending: StoredText[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly store: Pick<EventLog, 'saveTexts'>) {}

  /**
   * Queues a rendered prompt under its hash (the hash the event records), kept beside `recordId`
   * when it is that record's own request (null for a group's).
   */
  async rememberPrompt(
    hash: string,
    system: string | null,
    text: string,
    recordId: string | null,
  ): Promise<void> {
    await this.remember({ hash, recordId, kind: 'prompt', body: JSON.stringify({ system, text }) });
  }

  /** Queues a text; saves the group once it is full. */
  async remember(text: StoredText): Promise<void> {
    const key = `${text.recordId ?? ''}\u0000${text.hash}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= SEEN_LIMIT) this.seen.clear();
    this.seen.add(key);
    this.pending.push({ ...text, body: redact(text.body) });
    if (this.pending.length >= SAVE_GROUP) await this.flush();
  }

  /** Saves every queued text in one transaction. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    await this.store.saveTexts(group);
  }
}

/** sha256 hex of a value's JSON: the digest of contexts and generation configs. */
export function jsonDigest(value: unknown): string {
  return sha256Hex(JSON.stringify(value) ?? 'null');
}
