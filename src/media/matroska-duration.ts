import type { ByteSource, Reading } from './byte-source.js';

/*
 * Seconds of a WebM (Matroska) file from its Segment's Info element: Duration (a float) in units of
 * TimestampScale nanoseconds (1 ms unless given). A live recording (MediaRecorder's WebM) often has
 * no Duration: then undefined, as for Info that follows the first Cluster.
 */

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const CLUSTER = 0x1f43b675;
const TIMESTAMP_SCALE = 0x2ad7b1;
const DURATION = 0x4489;
const DEFAULT_TIMESTAMP_SCALE_NS = 1_000_000;

/** Seconds from a Matroska/WebM file's Segment Info, or undefined without a Duration there. */
export function* matroskaSeconds(source: ByteSource): Reading<number | undefined> {
  const header = yield* element(source, 0);
  if (!header || header.id !== EBML_HEADER) return undefined;
  const segment = yield* childOf(source, header.end, source.length, SEGMENT);
  const info = segment && (yield* childOf(source, segment.start, segment.end, INFO));
  if (!info) return undefined;
  let scale = DEFAULT_TIMESTAMP_SCALE_NS;
  let duration: number | undefined;
  for (let at = info.start; at < info.end;) {
    const child = yield* element(source, at);
    if (!child) break;
    const size = child.end - child.start;
    const body = () => source.bytes(child.start, child.end);
    if (child.id === TIMESTAMP_SCALE && size >= 1 && size <= 6) scale = (yield* body()).readUIntBE(0, size);
    if (child.id === DURATION && size === 4) duration = (yield* body()).readFloatBE(0);
    if (child.id === DURATION && size === 8) duration = (yield* body()).readDoubleBE(0);
    at = child.end;
  }
  return duration === undefined ? undefined : (duration * scale) / 1e9;
}

/** The first element `id` among the siblings from `from` to `to`, stopping at a Cluster (media data). */
function* childOf(
  source: ByteSource,
  from: number,
  to: number,
  id: number,
): Reading<{ start: number; end: number } | undefined> {
  for (let at = from; at < to;) {
    const found = yield* element(source, at);
    if (!found || found.id === CLUSTER) return undefined;
    if (found.id === id) return found;
    at = found.end;
  }
  return undefined;
}

/**
 * The element at `at`: its ID (marker bits kept, as specifications write IDs), where its body starts
 * and ends (an unknown size, all ones, runs to the end of the data). Undefined past the end.
 */
function* element(
  source: ByteSource,
  at: number,
): Reading<{ id: number; start: number; end: number } | undefined> {
  const id = yield* variableInteger(source, at, 4);
  if (!id) return undefined;
  const size = yield* variableInteger(source, at + id.length, 8);
  if (!size) return undefined;
  const start = at + id.length + size.length;
  const end = size.unknown ? source.length : start + size.value;
  return start <= source.length ? { id: id.raw, start, end: Math.min(end, source.length) } : undefined;
}

/** An EBML variable-length integer: its length from the leading zero bits of its first byte. */
function* variableInteger(
  source: ByteSource,
  at: number,
  maxLength: number,
): Reading<{ raw: number; value: number; length: number; unknown: boolean } | undefined> {
  const data = yield* source.bytes(at, at + maxLength);
  if (data.length === 0) return undefined;
  const first = data.readUInt8(0);
  const length = first === 0 ? 9 : 8 - Math.floor(Math.log2(first));
  if (length > maxLength || length > data.length) return undefined;
  let raw = first;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let index = 1; index < length; index++) {
    const byte = data.readUInt8(index);
    raw = raw * 256 + byte;
    value = value * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { raw, value, length, unknown: allOnes };
}
