import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkloadService } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig, runOnEmulatorClock } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { billed } from '../fixtures/billed-figures.js';

const TIME_SCALE = 3_000;

/** Instructions that dwarf each item: a group of four sends them once instead of four times. */
const INSTRUCTIONS = `${'List every course on the page with its code, title, credits and prerequisites. '.repeat(200)}\n`;
/** The grouped page template after `instructions`. */
const groupedTemplate = (instructions: string) =>
  `${instructions}{% for r in records %}Item {{ r.id }}: page {{ r.page }} of {{ r.school }}.{% if r.context %} Carried over: {{ r.context }}{% endif %}\n{% endfor %}`;

/** Sets `execution.max_cost` in the workload's config at `configPath`. */
function capCost(configPath: string, maxCost: number): void {
  const yaml = readFileSync(configPath, 'utf8');
  writeFileSync(configPath, yaml.replace('\nexecution:\n', `\nexecution:\n  max_cost: ${maxCost}\n`));
}

// With records_per_request the batch lane sends a group's instructions once, as one request: a cost
// cap must price each record as its share of its group's request, as `estimate` does and Google bills.
describe('execution.max_cost with grouped requests', () => {
  const sandbox = emulatorSandbox();

  /** An emulator and a batch-mode catalog workload of `books` one-page books, sent in groups of four. */
  async function startGrouped(books: number, seed: number, instructions = INSTRUCTIONS) {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed,
      turnaroundMs: { min: 60_000, max: 120_000 },
    });
    const workload = writeCatalogWorkload({
      books,
      pages: 1,
      execution: { mode: 'batch', poll_interval: '30s', records_per_request: 4, max_requests_per_job: 10 },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    writeFileSync(join(root, 'prompts', 'page', 'v1.jinja'), groupedTemplate(instructions));
    return { emulator, workload };
  }

  // Priced record by record, the cap held back what it pays for.
  it('lets through, in batch mode, every record a cap above the grouped estimate pays for', async () => {
    const { emulator, workload } = await startGrouped(8, 4);
    const service = WorkloadService.open(await emulatedConfig(workload.configPath, emulator));
    const estimate = await service.estimate();
    await service.close();
    // Above the grouped estimate, well below what the records would cost sent one by one.
    const maxCost = (estimate.modes.batch.costUsd as number) * 1.2;
    expect(estimate.modes.flex.costUsd as number).toBeGreaterThan(maxCost * 1.2);
    capCost(workload.configPath, maxCost);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
    });

    const billedUsd = billed(emulator.ledger.entries()).all.costUsd;
    expect(events.filter((event) => event.type === 'lane-decision' && event.reason === 'max_cost')).toEqual(
      [],
    );
    // Two requests of four records, sent at once: nothing waited for a later round.
    expect(emulator.ledger.entries()).toHaveLength(2);
    expect(summary.counts.done).toBe(8);
    expect(summary.finished).toBe(true);
    expect(billedUsd).toBeLessThanOrEqual(maxCost);
  });

  // A group's records are one request to Google: once their combined prompt is over the 200K
  // long-context threshold, the whole request is billed at the long-context rates, though no record's
  // own prompt reaches it. Priced on each record's share, the cap counted them at the lower rates.
  it('prices the group at the long-context rates the API bills it at, and stays within the cap', async () => {
    const { emulator, workload } = await startGrouped(4, 9);
    // Each page some 60K tokens: a group of the four is 240K, over 2.5 Pro's 200K threshold. At the
    // lower Batch rates (500 output tokens assumed a record) the four are $0.184 with the cap's 15%
    // margin; at the long-context rates the API bills the group at, $0.362.
    for (const [id] of workload.chains)
      writeFileSync(join(workload.root, 'dataset', `${id}.txt`), `${id}: ${'Latin 101. '.repeat(21_800)}`);
    const yaml = readFileSync(workload.configPath, 'utf8');
    writeFileSync(workload.configPath, yaml.replace('name: gemini-2.5-flash', 'name: gemini-2.5-pro'));
    const maxCost = 0.25;
    capCost(workload.configPath, maxCost);
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });

    expect(summary.counts.done).toBe(4);
    // Sent as the cap allows, in groups under the threshold: billed within it.
    const bills = emulator.ledger.entries();
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
    expect(bills.length).toBeGreaterThan(1);
  }, 90_000);

  // The batch lane groups the records the cap lets through, in order: when the cap holds a group's
  // last records, its first ones go in a smaller group, which pays the instructions over fewer
  // records. Priced at their share of the full group, the cap let through a bill past it.
  it('prices what goes in a group cut short by the cap as that smaller group, and stays within the cap', async () => {
    // Instructions of some 400K tokens: a group pays about the same however many pages it holds.
    const { emulator, workload } = await startGrouped(8, 12, INSTRUCTIONS.repeat(100));
    const service = WorkloadService.open(await emulatedConfig(workload.configPath, emulator));
    const estimate = await service.estimate();
    await service.close();
    // Six records' shares of two groups of four ($0.011 each with the margin), not seven: at their
    // shares the cap let through a group of four and one of two, billed about twice $0.06.
    const share = ((estimate.modes.batch.costUsd as number) / 8) * 1.15;
    const maxCost = share * 6.2;
    capCost(workload.configPath, maxCost);
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });

    const bills = emulator.ledger.entries();
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
    expect(summary.counts.done).toBe(4);
  }, 90_000);

  // A run sends a record in a group of one at the least: a cap above its share of a group but below
  // the group's instructions alone can never send it. Judged by its share, the run said to run again.
  it('says to raise the cap, not to run again, when a cap is above a share but below any request', async () => {
    const { emulator, workload } = await startGrouped(8, 13, INSTRUCTIONS.repeat(100));
    // A group of four is some $0.07 with the margin, $0.018 a share; a page alone is $0.07 too.
    const maxCost = 0.05;
    capCost(workload.configPath, maxCost);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });

    expect(emulator.ledger.entries()).toEqual([]);
    expect(summary.finished).toBe(false);
    const warnings = events.flatMap((event) =>
      event.type === 'warning' && event.message.includes('execution.max_cost') ? [event.message] : [],
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /No run can send them at this cap: raise execution\.max_cost above \$0\.0[67]\d*\.$/,
    );
  }, 90_000);
});
