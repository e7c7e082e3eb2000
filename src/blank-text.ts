/** Something besides white space; `test` stops at the first such character, with no trimmed copy made. */
const NON_BLANK = /\S/;

/**
 * Whether `text` is empty or only white space (the same characters `trim` removes). Asked of every
 * line of a JSONL file and of every model answer, so it makes no copy of the text.
 */
export function isBlank(text: string): boolean {
  return !NON_BLANK.test(text);
}
