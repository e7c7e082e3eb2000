import { Command } from 'commander';
import { OneoffInputError, readJobRequests } from '../../service/batch-jobs/index.js';
import { baseUrlOption, printerFor, serviceFor, type OneoffDeps } from './oneoff-options.js';

export { AUTO_INLINE_MAX_BYTES, INLINE_MAX_BYTES } from '../../service/batch-jobs/index.js';

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
      // Read first: a malformed file is reported before a missing API key.
      const requests = await readJobRequests(file);
      const job = await serviceFor(options, deps).submit({
        model: options.model,
        requests,
        ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
        transport: options.inline ? 'inline' : options.upload ? 'upload' : 'auto',
      });
      printerFor(deps)(`${job.name}\n`);
    });
}
