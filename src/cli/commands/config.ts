import { join } from 'node:path';
import { Command } from 'commander';
import { resolvedConfigView } from '../../config/resolved-view.js';
import { assertPromptFitsGrouping, loadPrompt } from '../../prompts/index.js';
import { renderConfigYaml } from '../../scaffold/index.js';
import { configOption, loadConfigFromOption } from '../config-option.js';
import { promptWarnings } from './unread-fields.js';

/** `wavebatch config check`: validate a workload config and show it resolved, with every default. */
export function configCommands(): Command[] {
  const check = new Command('check')
    .description(
      'Validate the workload config (keys, values, referenced files, the prompt template) and print it resolved, with every default',
    )
    .addOption(configOption())
    .option('--json', 'print { configPath, valid, apiKeyFrom, prompt, warnings, config } as JSON')
    .option('-q, --quiet', 'print nothing but errors; the exit code says whether the config is valid')
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch config check\n  wavebatch config check -c other.yaml --json',
    )
    .action(async (options: { config?: string; json?: boolean; quiet?: boolean }) => {
      // Every problem is thrown as an input error (exit 2) naming the file, the line and the key.
      const config = await loadConfigFromOption(options.config);
      const prompt = await loadPrompt(config.prompt.dir, config.prompt.name, config.prompt.version);
      assertPromptFitsGrouping(prompt, config.execution.records_per_request);
      if (options.quiet) return;
      const warnings = await promptWarnings(config, prompt);
      const view = resolvedConfigView(config, process.env);
      const template = join(config.prompt.dir, config.prompt.name, `${config.prompt.version}.jinja`);
      const promptInfo = { template, templateHash: prompt.templateHash };
      if (options.json) {
        const document = {
          configPath: config.configPath,
          valid: true,
          apiKeyFrom: view.apiKeyFrom,
          prompt: promptInfo,
          warnings,
          config: view.config,
        };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
        return;
      }
      const key = view.apiKeyFrom
        ? `from ${view.apiKeyFrom}`
        : config.api.base_url
          ? 'none needed (api.base_url is set)'
          : 'NOT SET: export GEMINI_API_KEY before `wavebatch run`';
      process.stdout.write(
        [
          `${config.configPath} is valid`,
          `prompt template ${template} compiles`,
          ...warnings.map((warning) => `warning: ${warning}`),
          `API key ${key}`,
          '',
          renderConfigYaml(view.config, { comments: ['resolved, with every default (durations in ms):'] }),
        ].join('\n'),
      );
    });
  return [new Command('config').description('Check the workload config').addCommand(check)];
}
