import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/report-error.js';
import { holdsSecret, redact, registerSecret, urlHasCredentials } from '../../src/secrets/redact.js';
import { redactEvent } from '../../src/runner/events.js';

const SHAPED = `AIza${'Sy0123456789abcdefghijklmnopqrstuvw'.slice(0, 35)}`;

describe('redact', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('removes the keys of the environment and registered keys by value, whatever their shape', () => {
    vi.stubEnv('GEMINI_API_KEY', 'env-key-0123456789');
    vi.stubEnv('GOOGLE_API_KEY', 'other-env-key-abcdef');
    registerSecret('code-given-key-31415926');
    const text = 'got env-key-0123456789, other-env-key-abcdef and code-given-key-31415926 back';
    expect(redact(text)).toBe('got [redacted], [redacted] and [redacted] back');
  });

  it('removes a key set or registered after an earlier redaction, and forgets a key the environment no longer holds', () => {
    vi.stubEnv('GEMINI_API_KEY', 'first-key-0123456789');
    expect(redact('a first-key-0123456789 b')).toBe('a [redacted] b');
    vi.stubEnv('GEMINI_API_KEY', 'second-key-0123456789');
    vi.stubEnv('GOOGLE_API_KEY', 'google-key-0123456789');
    expect(redact('second-key-0123456789 google-key-0123456789')).toBe('[redacted] [redacted]');
    expect(redact('first-key-0123456789')).toBe('first-key-0123456789');
    registerSecret('later-code-key-2718281828');
    expect(redact('x later-code-key-2718281828')).toBe('x [redacted]');
    // Longest first: a registered key that contains the environment's is removed whole.
    registerSecret('second-key-0123456789-and-more');
    expect(redact('second-key-0123456789-and-more')).toBe('[redacted]');
  });

  it('removes secret-shaped text nobody configured: Google keys, OAuth and bearer tokens, key parameters, headers, URL credentials', () => {
    const cases: Array<[string, string]> = [
      [`API key not valid: ${SHAPED}.`, 'API key not valid: [redacted].'],
      ['token ya29.a0AfH6SMBx-y_z was rejected', 'token [redacted] was rejected'],
      ['Authorization: Bearer abc.def-ghi_jkl== sent', 'Authorization: Bearer [redacted] sent'],
      ['GET /v1beta/files?alt=media&key=abc123 failed', 'GET /v1beta/files?alt=media&key=[redacted] failed'],
      ['{"x-goog-api-key": "abc123", "n": 1}', '{"x-goog-api-key": "[redacted]", "n": 1}'],
      [
        'fetch https://user:pa55@proxy.example:8080/v1beta failed',
        'fetch https://[redacted]@proxy.example:8080/v1beta failed',
      ],
      ['at https://token@host/path', 'at https://[redacted]@host/path'],
    ];
    for (const [text, expected] of cases) expect(redact(text), text).toBe(expected);
  });

  it('finds secret-shaped text whatever its case and however it is spelt (the quick check before the patterns lets none by)', () => {
    const cases: Array<[string, string]> = [
      ['AUTHORIZATION: BEARER abc.def', 'AUTHORIZATION: BEARER [redacted]'],
      ['/files?ALT=media&API_KEY=abc123', '/files?ALT=media&API_KEY=[redacted]'],
      ['/files?Api-Key=abc123', '/files?Api-Key=[redacted]'],
      ['/x?ACCESS_TOKEN=abc123&n=1', '/x?ACCESS_TOKEN=[redacted]&n=1'],
      ['/x?token=abc123', '/x?token=[redacted]'],
      ["X-Goog-Api-Key='abc123'", "X-Goog-Api-Key='[redacted]'"],
      ['HTTPS://USER:PW@HOST/path', 'HTTPS://[redacted]@HOST/path'],
      ['git+ssh://deploy@host/repo', 'git+ssh://[redacted]@host/repo'],
      [`{"output":"${SHAPED}"}`, '{"output":"[redacted]"}'],
    ];
    for (const [text, expected] of cases) expect(redact(text), text).toBe(expected);
  });

  it('leaves ordinary text alone, including short values and e-mail addresses', () => {
    registerSecret('short');
    for (const text of [
      'The emulator answered 500 for key short-lived.',
      'mail ops@example.com about https://example.com/a@b',
      'The answer is not valid JSON (finishReason STOP): unexpected "}"',
    ])
      expect(redact(text)).toBe(text);
    expect(holdsSecret('nothing here')).toBe(false);
    expect(holdsSecret(`a ${SHAPED}`)).toBe(true);
  });

  it('tells URLs with credentials apart', () => {
    expect(urlHasCredentials('https://user:key@host.example')).toBe(true);
    expect(urlHasCredentials('https://key@host.example')).toBe(true);
    expect(urlHasCredentials('http://127.0.0.1:8080')).toBe(false);
    expect(urlHasCredentials('not a url')).toBe(false);
    expect(urlHasCredentials('http://127.0.0.1:8080/?key=AIzaSyFAKE')).toBe(true);
    expect(urlHasCredentials('https://host.example/v1beta?alt=json&ACCESS_TOKEN=ya29.x')).toBe(true);
    expect(urlHasCredentials('https://host.example/v1beta?alt=json')).toBe(false);
  });

  it('is applied to the free text of runner events and to errors printed on stderr', () => {
    expect(redactEvent({ type: 'warning', message: `echo ${SHAPED}` })).toEqual({
      type: 'warning',
      message: 'echo [redacted]',
    });
    expect(redactEvent({ type: 'quota-wait', reason: `key=${SHAPED}`, retryDelayMs: null })).toMatchObject({
      reason: 'key=[redacted]',
    });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      vi.stubEnv('WAVEBATCH_DEBUG', '1');
      expect(reportError(new Error(`server said ${SHAPED}`))).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain('server said [redacted]');
    expect(written.join('')).not.toContain(SHAPED);
  });
});
