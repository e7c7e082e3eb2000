// The compiled CLI's start-up: `--help`, `status` on a fresh workload, `run` refusing a bad flag and
// `export --help`, each started BENCH_START_RUNS times, beside `node -e ''` (the ceiling: Node's own
// start) in the same run. Medians of wall time and of the child's CPU (user + system, Linux only).
// The package is compiled as the tests compile it (test/compiled-cli.ts), so the figure is the one
// the ~300 CLI starts of a test run pay, and the one an installed package pays.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import compileCli from '../test/compiled-cli.js';

const RUNS = Number(process.env.BENCH_START_RUNS ?? 11);

/** Starts the compiled CLI's commands and Node alone, RUNS times each, and prints the medians. */
export async function benchCliStart(): Promise<void> {
  let bin = '';
  const project = { provide: (key: string, value: string) => key === 'compiledBin' && (bin = value) };
  const removePackage = await compileCli(project as unknown as TestProject);
  const workload = mkdtempSync(join(tmpdir(), 'wb-bench-start-'));
  try {
    started([bin, 'init', '.', '--source', 'jsonl', '--emulator'], workload);
    console.log(
      `machine: ${cpus().length} CPUs, load ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
    console.log(`cli-start: median of ${RUNS} starts each (wall ms, CPU ms)`);
    const cases: Array<[string, string[]]> = [
      ["node -e ''", ['-e', '']],
      ['wavebatch --help', [bin, '--help']],
      ['wavebatch status', [bin, 'status']],
      ['wavebatch run --bogus', [bin, 'run', '--bogus']],
      ['wavebatch export --help', [bin, 'export', '--help']],
    ];
    for (const [name, args] of cases) {
      const samples = Array.from({ length: RUNS }, () => started(args, workload));
      const wall = median(samples.map((sample) => sample.wallMs));
      const cpu = median(samples.map((sample) => sample.cpuMs));
      console.log(
        `  ${name.padEnd(24)} wall ${wall.toFixed(0).padStart(5)}  cpu ${cpu.toFixed(0).padStart(5)}`,
      );
    }
  } finally {
    rmSync(workload, { recursive: true, force: true });
    removePackage();
  }
}

/** One start: wall time, and the CPU the child used (its ticks, as the parent's waited-for children). */
function started(args: string[], cwd: string): { wallMs: number; cpuMs: number } {
  const before = childTicks();
  const start = performance.now();
  const child = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const wallMs = performance.now() - start;
  // `run --bogus` exits 2 by design; anything else non-zero means the figure is of a failure.
  if (child.status !== 0 && !(args.includes('--bogus') && child.status === 2))
    throw new Error(`${args.join(' ')} exited ${child.status}: ${child.stderr.toString()}`);
  return { wallMs, cpuMs: (childTicks() - before) * 10 };
}

/** cutime + cstime of this process in clock ticks (10 ms); NaN off Linux. */
function childTicks(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ", cutime and cstime are the 14th and 15th fields (stat's 16th and 17th).
    return Number(fields[13]) + Number(fields[14]);
  } catch {
    return Number.NaN;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
