import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { baseUrlOption, clientFor, OneoffInputError, printerFor, type OneoffDeps } from './oneoff-options.js';
import { inlineObstacle, readSubmitFile, toInputLine, toSdkInlinedRequest } from './submit-input.js';

/** Below this many bytes of JSONL a job is sent inline: one call instead of an upload. */
export const AUTO_INLINE_MAX_BYTES = 1024 * 1024;
/** The API's limit on an inline batch create request. */
export const INLINE_MAX_BYTES = 20 * 1024 * 1024;

interface SubmitOptions {
  model: string;
  displayName?: string;
  inline?: boolean;
  upload?: boolean;
  baseUrl?: string;
}

/** `wavebatch submit <file>`: one batch job from a file of requests; prints the job name. */
export function submitCommand(deps: OneoffDeps = {}): Command {
  return new Command('submit')
    .description(
      'Submit one batch job from a JSON or JSONL file of GenerateContent requests; prints the job name',
    )
    .argument(
      '<file>',
      '.json (array of requests, or {"requests": [...]}) or .jsonl (one {key?, request} or bare request per line)',
    )
    .requiredOption('-m, --model <model>', 'model, e.g. gemini-2.5-flash')
    .option('--display-name <name>', 'job display name (default: wavebatch-submit-<file name>)')
    .option('--inline', 'send the requests in the create call (up to 20 MB)')
    .option('--upload', 'always upload the requests as a file first')
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      [
        '',
        'Requests use the REST shape: {"contents": [{"role": "user", "parts": [{"text": "..."}]}], "generationConfig": {...}}.',
        'Keys are kept when given ({"key": "a", "request": {...}}) and default to request-<n>.',
        'Small inputs (up to 1 MB of JSONL) go inline, larger ones are uploaded, unless --inline or --upload says otherwise;',
        'requests with a generationConfig field the SDK cannot send inline are always uploaded.',
        '',
        'Examples:',
        '  wavebatch submit prompts.jsonl --model gemini-2.5-flash',
        '  wavebatch submit prompts.json -m gemini-2.5-flash --display-name nightly --upload',
        '  WAVEBATCH_BASE_URL=http://127.0.0.1:8787 wavebatch submit prompts.jsonl -m gemini-2.5-flash',
      ].join('\n'),
    )
    .action(async (file: string, options: SubmitOptions) => {
      if (options.inline && options.upload)
        throw new OneoffInputError('Choose one of --inline and --upload.');
      const items = await readSubmitFile(file);
      const client = clientFor(options, deps);
      const lines = items.map(toInputLine);
      const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
      const obstacle = inlineObstacle(items);
      if (options.inline && obstacle)
        throw new OneoffInputError(`${obstacle}; drop --inline to upload the requests as they are.`);
      const inline = options.inline ?? (!options.upload && !obstacle && bytes <= AUTO_INLINE_MAX_BYTES);
      if (inline && bytes > INLINE_MAX_BYTES) {
        throw new OneoffInputError(
          `${file} is ${bytes} bytes, above the ${INLINE_MAX_BYTES}-byte inline limit; drop --inline to upload it.`,
        );
      }
      const displayName = options.displayName ?? `wavebatch-submit-${basename(file).replace(/\.[^.]*$/, '')}`;
      let source: { fileName: string } | { requests: ReturnType<typeof toSdkInlinedRequest>[] };
      if (inline) {
        source = { requests: items.map(toSdkInlinedRequest) };
      } else {
        const dir = await mkdtemp(join(tmpdir(), 'wavebatch-submit-'));
        try {
          // Not named after the display name: that is the user's text and may hold a '/'.
          const path = join(dir, 'requests.jsonl');
          await writeFile(path, `${lines.join('\n')}\n`);
          source = { fileName: (await client.uploadJsonl(path, displayName)).name };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      const job = await client.createBatch({ model: options.model, displayName, source });
      printerFor(deps)(`${job.name}\n`);
    });
}
