// The scale benchmark: end-to-end records/s of local work with the JSONL sink at 10k and 100k
// records (and 1M with BENCH_SCALE_1M=1), peak RSS, start-up over an unchanged source and over a
// touched one (the whole source compared with the store), disk written
// per record; then each stage beside its bare-loop ceiling, measured in the same run. Each end-to-end
// size runs in its own child process (its own peak RSS), with the emulator in yet another one, so the
// CPU and time figures hold wavebatch's own work. A flat workload (no chains: every record ready at
// once) runs at 100k too, as a different load: one round of every record instead of 20 rounds. Chains
// on the Flex lane run at 5k and 20k: one synchronous request per record, and a pass of the run loop
// at every answer, so any per-pass cost that grows with the workload shows as CPU per record rising
// from one size to the next. Chains with outputs of about 1.1 kB instead of 90 bytes, and with pages
// of about 2 kB of text instead of 100 bytes, run at 100k: the bytes written per record depend on both.
// On the largest chained store, the commands a person runs on it (status, log, listings, export,
// prune) are timed too, each beside its bare loop.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { machineConditions, printFigure, sizeFromEnv } from './figures.js';
import type { CommandFigure } from './scale/commands.js';
import type { EndToEndFigures } from './scale/end-to-end.js';
import { measureStagesRepeated } from './scale/stages.js';
import type { SizeProfile, WorkloadLane, WorkloadShape } from './scale/workload.js';

/**
 * Runs the benchmark; BENCH_SCALE_SIZES (e.g. "10000,100000") or BENCH_SCALE_1M=1 pick the sizes of
 * chained workloads, BENCH_SCALE_FLAT_SIZES those of flat ones, BENCH_SCALE_FLEX_SIZES those of
 * chained ones on the Flex lane, BENCH_SCALE_LONG_OUTPUT_SIZES and BENCH_SCALE_LONG_TEXT_SIZES those
 * of chained ones with long outputs or long page texts ("" for none).
 */
export async function benchScale(): Promise<void> {
  const sizes = sizesFrom(process.env.BENCH_SCALE_SIZES ?? '10000,100000');
  if (process.env.BENCH_SCALE_1M === '1' && !sizes.includes(1_000_000)) sizes.push(1_000_000);
  const flatSizes = sizesFrom(process.env.BENCH_SCALE_FLAT_SIZES ?? '100000');
  const flexSizes = sizesFrom(process.env.BENCH_SCALE_FLEX_SIZES ?? '5000,20000');
  const longOutputSizes = sizesFrom(process.env.BENCH_SCALE_LONG_OUTPUT_SIZES ?? '100000');
  const longTextSizes = sizesFrom(process.env.BENCH_SCALE_LONG_TEXT_SIZES ?? '100000');
  const run =
    (shape: WorkloadShape, lane: WorkloadLane, sizes: SizeProfile = 'short') =>
    (records: number) => ({
      records,
      shape,
      lane,
      sizes,
    });
  const runs = [
    ...sizes.map(run('chains', 'batch')),
    ...flatSizes.map(run('flat', 'batch')),
    ...longOutputSizes.map(run('chains', 'batch', 'long-outputs')),
    ...longTextSizes.map(run('chains', 'batch', 'long-text')),
    ...flexSizes.map(run('chains', 'flex')),
  ];
  const stageRecords = sizeFromEnv('BENCH_STAGE_RECORDS', 50_000);

  console.log(
    `scale: chains of 20 pages from one JSONL source, JSONL output sink, emulator in its own process`,
  );
  printFigure('machine', machineConditions());

  const stageRepeats = sizeFromEnv('BENCH_STAGE_REPEATS', 3);
  const stages = await measureStagesRepeated(stageRecords, stageRepeats);
  const ceilingUsPerRecord = stages.reduce((sum, s) => sum + (s.ceilingMs * 1000) / s.records, 0);
  console.log(
    `  stages over ${stageRecords.toLocaleString('en-US')} records (each beside its bare-loop ceiling; ` +
      `medians of ${stageRepeats} runs, each run's wall ratio in brackets)`,
  );
  for (const s of stages) {
    console.log(`    ${s.name}: ceiling = ${s.ceiling}`);
    printFigure(
      '',
      `${us(s.ms, s.records)} µs/record, ceiling ${us(s.ceilingMs, s.records)}: ${(s.ms / s.ceilingMs).toFixed(2)}x` +
        `  (CPU ${us(s.cpuMs, s.records)} vs ${us(s.ceilingCpuMs, s.records)}: ${(s.cpuMs / s.ceilingCpuMs).toFixed(2)}x)` +
        `  [${s.ratios.map((ratio) => ratio.toFixed(2)).join(', ')}]`,
    );
  }
  printFigure(
    '  sum of the ceilings',
    `${ceilingUsPerRecord.toFixed(1)} µs/record = ${rate(ceilingUsPerRecord)} records/s`,
  );

  console.log('  end to end');
  // The commands (status, log, listings, export, prune) are timed on the largest chained store.
  const commandsAt = Math.max(0, ...sizes);
  for (const { records, shape, lane, sizes } of runs) {
    const commands = records === commandsAt && shape === 'chains' && lane === 'batch' && sizes === 'short';
    const figures = runEndToEnd(records, shape, lane, sizes, commands);
    if (!figures) continue;
    const localUs = (figures.localMs * 1000) / records;
    const cpuUs = (figures.cpuMs * 1000) / records;
    const kind =
      lane === 'flex'
        ? ', Flex'
        : shape === 'flat'
          ? ', flat'
          : sizes === 'short'
            ? ''
            : `, ${sizes.replace('-', ' ')}`;
    printFigure(
      `  ${records.toLocaleString('en-US')} records${kind}`,
      `${rate(localUs)} records/s of local work (${localUs.toFixed(1)} µs/record; CPU ${rate(cpuUs)}/s, ${cpuUs.toFixed(0)} µs/record); ` +
        // The stages' ceilings are the batch lane's; a Flex record is one request of its own.
        (lane === 'flex'
          ? 'a request and an answer each'
          : `ceiling ${rate(ceilingUsPerRecord)}/s, ${(localUs / ceilingUsPerRecord).toFixed(2)}x`),
    );
    printFigure(
      '    wall / API calls / poll sleeps',
      `${ms(figures.wallMs)} / ${ms(figures.apiMs)} / ${ms(figures.sleepMs)}; ${figures.jobs} jobs; ${figures.done} done`,
    );
    printFigure('    peak RSS', `${(figures.peakRssBytes / 1e6).toFixed(0)} MB`);
    printFigure(
      '    start-up, unchanged source',
      `${ms(figures.startupMs)} (open, sync, recover, nothing to do, close)`,
    );
    printFigure(
      '    start-up, touched source',
      `${ms(figures.resyncMs)} (the whole source read and compared with the store, nothing to do)`,
    );
    const perRecord = (bytes: number) => `${(bytes / records / 1000).toFixed(2)} kB`;
    printFigure(
      '    disk per record',
      `outputs ${perRecord(figures.shardBytes)} (model output alone ${perRecord(figures.outputBytes)}); ` +
        `all writes ${figures.diskWrittenBytes === null ? 'n/a' : perRecord(figures.diskWrittenBytes)} ` +
        `= ${figures.diskWrittenBytes === null ? 'n/a' : (figures.diskWrittenBytes / figures.shardBytes).toFixed(1)}x outputs; ` +
        `store file ${perRecord(figures.storeBytes)}`,
    );
    if (figures.commands) printCommands(records, figures.commands);
  }
}

/** The commands on a finished store, each beside its bare loop (see scale/commands.ts). */
function printCommands(records: number, commands: CommandFigure[]): void {
  console.log(
    `    commands on the finished store of ${records.toLocaleString('en-US')} records (service layer)`,
  );
  for (const command of commands) {
    console.log(`      ${command.name}: ceiling = ${command.ceiling}`);
    printFigure(
      '',
      `${ms(command.ms)} for ${command.items.toLocaleString('en-US')}, ceiling ${ms(command.ceilingMs)}: ` +
        `${(command.ms / command.ceilingMs).toFixed(2)}x`,
    );
  }
}

function sizesFrom(list: string): number[] {
  return list
    .split(',')
    .map((size) => Number(size))
    .filter((size) => Number.isInteger(size) && size > 0);
}

function runEndToEnd(
  records: number,
  shape: WorkloadShape,
  lane: WorkloadLane,
  sizes: SizeProfile,
  commands: boolean,
): EndToEndFigures | null {
  const script = join(import.meta.dirname, 'scale', 'end-to-end.ts');
  const args = [
    '--import',
    'tsx',
    script,
    String(records),
    shape,
    lane,
    sizes,
    ...(commands ? ['commands'] : []),
  ];
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    console.error(
      `  end to end at ${records} records (${shape}, ${lane}, ${sizes}) failed (exit ${child.status ?? child.signal})`,
    );
    process.exitCode = 1;
    return null;
  }
  return JSON.parse(line) as EndToEndFigures;
}

function us(ms: number, records: number): string {
  return ((ms * 1000) / records).toFixed(1);
}

function rate(usPerRecord: number): string {
  return Math.round(1e6 / usPerRecord).toLocaleString('en-US');
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}
