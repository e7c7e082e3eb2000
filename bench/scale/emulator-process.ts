// Starts the emulator in its own process (see emulator-child.ts) and stops it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface EmulatorProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts the emulator child with its files under `storage`; resolves once it listens. */
export async function startEmulatorChild(storage: string): Promise<EmulatorProcess> {
  const script = join(import.meta.dirname, 'emulator-child.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, storage], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [url] = (await once(lines, 'line')) as [string];
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
