import { describe, expect, it } from 'vitest';
import { RecordIdError, validateRecordId } from '../../src/workload/index.js';

describe('validateRecordId', () => {
  it.each(['a', 'MA/harvard/1901/page_001', 'x.y-z_1', '_private/0', 'a'.repeat(200), 'v1.2/page.final'])(
    'accepts %j',
    (id) => {
      expect(validateRecordId(id, 'test')).toBe(id);
    },
  );

  it.each([
    ['', 'it is empty'],
    ['a'.repeat(201), 'longer than 200 characters'],
    ['../etc/passwd', 'would leave the output folder'],
    ['a/../b', 'would leave the output folder'],
    ['./a', 'would leave the output folder'],
    ['/abs', 'absolute path'],
    ['a\\b', "contains '\\'"],
    ['a/', 'empty segment'],
    ['a//b', 'empty segment'],
    ['.git/config', "starts with '.'"],
    ['a\u0000b', 'control character'],
    ['line\nbreak', 'control character'],
    ['-flag', "has characters other than letters, digits, '_', '.' and '-'"],
    ['with space', "has characters other than letters, digits, '_', '.' and '-'"],
    ['C:/x', "has characters other than letters, digits, '_', '.' and '-'"],
    ['ünïcode', "has characters other than letters, digits, '_', '.' and '-'"],
  ])('rejects %j (%s), naming the id JSON-escaped and where it came from', (id, reason) => {
    let error: unknown;
    try {
      validateRecordId(id, 'rows.jsonl:7');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(RecordIdError);
    const recordIdError = error as RecordIdError;
    expect(recordIdError.code).toBe('RECORD_ID_INVALID');
    expect(recordIdError.where).toBe('rows.jsonl:7');
    expect(recordIdError.message).toContain(reason);
    expect(recordIdError.message).toContain('from rows.jsonl:7');
    if (id.length <= 120) expect(recordIdError.message).toContain(JSON.stringify(id));
  });

  it('cuts very long ids in the message', () => {
    expect(() => validateRecordId('x'.repeat(5000), 'here')).toThrow(/\.\.\. \(5000 characters\)/);
  });
});
