import { isMp4OrQuickTime } from '../media/media-duration.js';

/** Which uploads go through emulated processing, and for how long (emulated ms; 0 = none). */
export interface FileProcessing {
  ms: number;
  /** 'video': only video/* uploads, as Google processes them; 'all': every upload. */
  types: 'video' | 'all';
}

/** The state `files.get` reports. */
export type FileState = 'PROCESSING' | 'ACTIVE' | 'FAILED';

/** How many first bytes of an upload are kept to recognise a video container. */
const HEAD_BYTES = 16;

/** The first bytes of an upload so far, extended by the next chunk. */
export function keepHead(head: Buffer, chunk: Buffer): Buffer {
  return head.length < HEAD_BYTES ? Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]) : head;
}

/**
 * When an upload leaves PROCESSING, and why it fails. Google processes a video (and with `types:
 * 'all'` the emulator any upload) before it can be used; a video that is no known container fails.
 */
export function processingOf(
  file: { name: string; mimeType: string; createTime: number },
  head: Buffer,
  processing: FileProcessing,
): { activeAt: number; processingError: string | undefined } {
  const isVideo = file.mimeType.startsWith('video/');
  if (processing.ms <= 0 || (processing.types === 'video' && !isVideo)) {
    return { activeAt: file.createTime, processingError: undefined };
  }
  const processingError =
    isVideo && !isVideoContainer(head)
      ? `The video ${file.name} could not be processed: its bytes are not a supported video container.`
      : undefined;
  return { activeAt: file.createTime + processing.ms, processingError };
}

/** The first bytes of an ASF file (WMV): its Header Object's GUID. */
const ASF_HEADER = Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]);

/**
 * Recognises the video containers Gemini takes by their first bytes: MP4/3GP/MOV (a MOV need not
 * open with `ftyp`), WebM/MKV, AVI, FLV, WMV (ASF), MPEG-PS, MPEG-TS.
 */
function isVideoContainer(head: Buffer): boolean {
  const ascii = head.toString('latin1');
  return (
    isMp4OrQuickTime(head) ||
    head.subarray(0, ASF_HEADER.length).equals(ASF_HEADER) ||
    ascii.startsWith('\x1a\x45\xdf\xa3') ||
    (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'AVI ') ||
    ascii.startsWith('FLV') ||
    ascii.startsWith('\x00\x00\x01\xba') ||
    head[0] === 0x47
  );
}
