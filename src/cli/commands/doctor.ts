import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { systemClock } from '../../clock.js';
import { apiKeySource } from '../../config/resolved-view.js';
import { apiKeyFinding, neverRunFindings, runDoctor, type Finding } from '../../doctor/doctor.js';
import { printable } from '../../printable.js';
import { QUICK_RETRY } from '../../retry.js';
import { ConnectionWatch } from '../../runner/connection-watch.js';
import { RemoteApi } from '../../runner/remote-api.js';
import {
  defaultClient,
  openWorkloadStore,
  runnerSettings,
  workloadStorePath,
} from '../../runner/workload-session.js';
import { configOption, loadWorkloadConfig } from '../config-option.js';
import { baseUrlOption } from './oneoff-options.js';
import { counted } from '../../quantities.js';
import { StoreError } from '../../store/errors.js';
import { describeError } from '../../errors.js';

/** `wavebatch doctor [--fix]`: what is wrong with a workload's state, and the repair. */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      "Check the workload's state store, its lease, intents and in-flight records left by a crash, and remote jobs and files nothing tracks; --fix repairs them",
    )
    .addOption(configOption())
    .addOption(baseUrlOption())
    .option('--fix', 'repair what was found (takes the store lease: refused while a run is active)')
    .option('--json', 'print the findings as a JSON array')
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing needs attention (or --fix repaired it all), 1 something does, 2 refused ' +
        '(RUN_LOCKED: a run holds the store) or bad config.\n\nExamples:\n  wavebatch doctor\n  wavebatch doctor --fix',
    )
    .action(async (options: { config?: string; baseUrl?: string; fix?: boolean; json?: boolean }) => {
      const config = await loadWorkloadConfig(options);
      const storePath = workloadStorePath(config);
      const key = apiKeySource(config, process.env) ?? (config.api.base_url ? 'base_url' : null);
      if (!existsSync(storePath)) {
        // Opening the store would create it: a look at a workload must not make it look run.
        report(neverRunFindings(storePath, key), options.json ?? false);
        return;
      }
      let store: ReturnType<typeof openWorkloadStore>;
      try {
        store = openWorkloadStore(config);
      } catch (error) {
        if (!(error instanceof StoreError && error.code === 'STORE_CORRUPT')) throw error;
        // A store SQLite cannot read is what doctor is for: its `store` finding, with the way out,
        // beside the key's; it ended with the error alone.
        report(
          [{ check: 'store', ok: false, message: error.message }, apiKeyFinding(key)],
          options.json ?? false,
        );
        return;
      }
      try {
        let api: RemoteApi | null = null;
        let apiUnavailable: string | undefined;
        let apiAddress: string | undefined;
        try {
          const settings = runnerSettings(config);
          apiAddress = settings.baseUrl;
          api = new RemoteApi(defaultClient(config), {
            clock: systemClock,
            policy: QUICK_RETRY,
            watch: new ConnectionWatch(systemClock, settings.baseUrl, settings.giveUpAfterMs),
          });
        } catch (error) {
          apiUnavailable = describeError(error);
        }
        const findings = await runDoctor({
          store,
          api,
          ...(apiUnavailable ? { apiUnavailable } : {}),
          ...(apiAddress ? { apiAddress } : {}),
          workload: config.name,
          clock: systemClock,
          fix: options.fix ?? false,
        });
        // Also on a workload that has run: its next run needs the key as much as a first one does.
        report([...findings, apiKeyFinding(key)], options.json ?? false);
      } finally {
        await store.close();
      }
    });
}

/**
 * Prints the findings; exit code 1 while one needs attention. A finding can quote the API (its
 * message when it cannot be listed), so control characters are written as `\uXXXX`.
 */
function report(findings: readonly Finding[], json: boolean): void {
  process.stdout.write(printable(json ? `${JSON.stringify(findings, null, 2)}\n` : formatFindings(findings)));
  const open = findings.filter((finding) => !finding.ok && finding.fixed === undefined);
  process.exitCode = open.length === 0 ? 0 : 1;
}

/** One line per finding, then what to do next. */
function formatFindings(findings: readonly Finding[]): string {
  const lines = findings.map((finding) => {
    const mark = finding.ok ? 'ok     ' : finding.fixed !== undefined ? 'fixed  ' : 'PROBLEM';
    const detail = finding.fixed ?? (finding.ok ? undefined : finding.fix && `--fix: ${finding.fix}`);
    return `${finding.check.padEnd(12)} ${mark}  ${finding.message}${detail ? `\n${' '.repeat(23)}-> ${detail}` : ''}`;
  });
  const problems = findings.filter((finding) => !finding.ok);
  const open = problems.filter((finding) => finding.fixed === undefined);
  const fixable = open.filter((finding) => finding.fix !== undefined);
  const next =
    problems.length === 0
      ? 'nothing needs attention'
      : open.length === 0
        ? `repaired ${counted(problems.length, 'problem')}`
        : `${counted(open.length, 'problem')}${fixable.length > 0 ? `; \`wavebatch doctor --fix\` repairs ${fixable.length < open.length ? `${fixable.length} of them` : open.length === 1 ? 'it' : 'them'}` : ''}`;
  return `${lines.join('\n')}\n${next}\n`;
}
