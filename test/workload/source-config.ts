import { loadConfig, type LoadedConfig } from '../../src/config/index.js';
import type { WorkloadRecord } from '../../src/workload/record.js';
import type { TempFolder } from '../config/temp-folder.js';

/** Loads a real YAML config in `folder` whose `source:` block is `sourceYaml` (indented lines). */
export async function configWithSource(
  folder: TempFolder,
  sourceYaml: string[],
  file = 'wavebatch.yaml',
): Promise<LoadedConfig> {
  folder.write('prompts/page/v1.jinja', 'x');
  const yaml = [
    'name: source-test',
    'source:',
    ...sourceYaml.map((line) => `  ${line}`),
    'prompt: { name: page, version: v1 }',
    'model: { name: m }',
  ];
  return loadConfig(folder.write(file, `${yaml.join('\n')}\n`), {});
}

/** Drains a source. */
export async function collect(source: AsyncIterable<WorkloadRecord>): Promise<WorkloadRecord[]> {
  const records: WorkloadRecord[] = [];
  for await (const record of source) records.push(record);
  return records;
}

/** Drains a source expected to fail and returns what it threw. */
export async function drainError(source: AsyncIterable<WorkloadRecord>): Promise<Error> {
  try {
    await collect(source);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the source to fail');
}
