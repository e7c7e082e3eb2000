import { existsSync } from 'node:fs';
import type { LoadedConfig } from '../config/index.js';
import { workloadStorePath } from '../runner/workload-session.js';
import { WorkloadService } from '../service/index.js';
import { loadConfigFromOption, loadWorkloadConfig } from './config-option.js';

/**
 * For a command that shows one thing a run left (show, report): opens the service when the workload
 * has run; when it never ran (no state store) it says so on standard error and returns undefined.
 * Opening the store would create it, and a look must leave no trace.
 */
export async function withRunWorkloadService<T>(
  configPath: string | undefined,
  work: (service: WorkloadService) => Promise<T>,
): Promise<T | undefined> {
  const config = await loadConfigFromOption(configPath);
  const { service, neverRun } = WorkloadService.openForReading(config);
  if (!neverRun) return serve(service, work);
  await service.close();
  process.stderr.write(`${neverRunNote(config)}\n`);
  return undefined;
}

/**
 * For a command that changes the state a run left (requeue, clear-failures, reset, prune): on a
 * workload that never ran there is nothing to change, so it says so on standard error and returns
 * undefined without opening the store, which would create it (and make the workload look run).
 */
export async function withChangedWorkloadService<T>(
  configPath: string | undefined,
  nothingTo: string,
  work: (service: WorkloadService) => Promise<T>,
): Promise<T | undefined> {
  const config = await loadConfigFromOption(configPath);
  if (!existsSync(workloadStorePath(config))) {
    process.stderr.write(`${neverRunNote(config)}: nothing to ${nothingTo}\n`);
    return undefined;
  }
  return serve(WorkloadService.open(config), work);
}

/**
 * For a command that looks at the workload (status, runs, log, jobs, failures, export, estimate): a
 * workload that never ran is served over an empty store in memory, so its figures and listings keep
 * their shape (scripts read them) and nothing is created on disk. With `sayNeverRun`, standard error
 * says the workload has never run; `baseUrl` (--base-url) is where a command that calls the API
 * (estimate --calibrate) calls it.
 */
export async function withWorkloadServiceOrEmpty<T>(
  configPath: string | undefined,
  work: (service: WorkloadService) => Promise<T>,
  options: { sayNeverRun: boolean; baseUrl?: string | undefined } = { sayNeverRun: true },
): Promise<T> {
  const config = await loadWorkloadConfig({
    ...(configPath !== undefined ? { config: configPath } : {}),
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
  });
  const { service, neverRun } = WorkloadService.openForReading(config);
  if (neverRun && options.sayNeverRun) process.stderr.write(`${neverRunNote(config)}\n`);
  return serve(service, work);
}

/** What a read-only command says of a workload that has never run. */
export function neverRunNote(config: LoadedConfig): string {
  return `the workload has never run (no ${workloadStorePath(config)}; \`wavebatch run\` creates it)`;
}

async function serve<T>(
  service: WorkloadService,
  work: (service: WorkloadService) => Promise<T>,
): Promise<T> {
  try {
    return await work(service);
  } finally {
    await service.close();
  }
}
