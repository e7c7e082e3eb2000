import { withoutByteOrderMark } from '../byte-order-mark.js';
import { utf8Fault } from '../jsonl/utf8.js';
import { PromptError } from './errors.js';

/**
 * A template file's text: UTF-8, without a leading byte-order mark. Any other encoding is refused
 * with PROMPT_ENCODING naming the line and byte: read as UTF-8, a Latin-1 `é` became U+FFFD, sent
 * in every prompt and billed, with no word said.
 */
export function templateText(bytes: Buffer, path: string): string {
  const fault = utf8Fault(bytes);
  if (fault) {
    throw new PromptError(
      'PROMPT_ENCODING',
      `Prompt template ${path} line ${fault.line}: byte ${fault.byteOffset} of the file is not valid UTF-8; ` +
        'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
    );
  }
  return withoutByteOrderMark(bytes.toString('utf8'));
}
