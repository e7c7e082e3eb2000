import { WorkloadService } from '../service/index.js';
import { loadConfigFromOption } from './config-option.js';

/** Loads the config named by --config, opens its service for `work`, and closes it afterwards. */
export async function withWorkloadService<T>(
  configPath: string | undefined,
  work: (service: WorkloadService) => Promise<T>,
): Promise<T> {
  const service = WorkloadService.open(await loadConfigFromOption(configPath));
  try {
    return await work(service);
  } finally {
    await service.close();
  }
}
