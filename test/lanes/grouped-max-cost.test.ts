import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkloadService } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig, runOnEmulatorClock } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

const TIME_SCALE = 3_000;

/** Instructions that dwarf each item: a group of four sends them once instead of four times. */
const INSTRUCTIONS = `${'List every course on the page with its code, title, credits and prerequisites. '.repeat(200)}\n`;
const GROUPED_TEMPLATE = `${INSTRUCTIONS}{% for r in records %}Item {{ r.id }}: page {{ r.page }} of {{ r.school }}.{% if r.context %} Carried over: {{ r.context }}{% endif %}\n{% endfor %}`;

// With records_per_request the batch lane sends a group's instructions once: a cost cap must price
// each record as its share of a group, as `estimate` does, or it holds back what the cap pays for.
describe('execution.max_cost with grouped requests', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('lets through, in batch mode, every record a cap above the grouped estimate pays for', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 4,
      turnaroundMs: { min: 60_000, max: 120_000 },
    });
    const workload = writeCatalogWorkload({
      books: 8,
      pages: 1,
      execution: { mode: 'batch', poll_interval: '30s', records_per_request: 4, max_requests_per_job: 10 },
    });
    root = workload.root;
    writeFileSync(join(root, 'prompts', 'page', 'v1.jinja'), GROUPED_TEMPLATE);
    const service = WorkloadService.open(await emulatedConfig(workload.configPath, emulator));
    const estimate = await service.estimate();
    await service.close();
    // Above the grouped estimate, well below what the records would cost sent one by one.
    const maxCost = (estimate.modes.batch.costUsd as number) * 1.2;
    expect(estimate.modes.flex.costUsd as number).toBeGreaterThan(maxCost * 1.2);
    const yaml = readFileSync(workload.configPath, 'utf8');
    writeFileSync(
      workload.configPath,
      yaml.replace('\nexecution:\n', `\nexecution:\n  max_cost: ${maxCost}\n`),
    );
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
    });

    const billed = emulator.ledger.entries().reduce((sum, entry) => sum + entry.costUsd, 0);
    expect(events.filter((event) => event.type === 'lane-decision' && event.reason === 'max_cost')).toEqual(
      [],
    );
    // Two requests of four records, sent at once: nothing waited for a later round.
    expect(emulator.ledger.entries()).toHaveLength(2);
    expect(summary.counts.done).toBe(8);
    expect(summary.finished).toBe(true);
    expect(billed).toBeLessThanOrEqual(maxCost);
  });
});
