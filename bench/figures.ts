// Formatting of benchmark figures, one style for every benchmark so outputs compare line by line.
import { availableParallelism, loadavg } from 'node:os';

/** `12,345 lines/s` — how many per second, from a count and elapsed milliseconds. */
export function perSecond(count: number, ms: number, unit: string): string {
  return `${Math.round(count / (ms / 1000)).toLocaleString('en-US')} ${unit}/s`;
}

/** Megabytes (10^6 bytes) with one decimal. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `85.3 MB/s`, from bytes and elapsed milliseconds. */
export function megabytesPerSecond(bytes: number, ms: number): string {
  return `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
}

/** Milliseconds, whole, or with one decimal under 10 ms. */
export function milliseconds(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms).toLocaleString('en-US')} ms`;
}

/** Microseconds per item, from elapsed milliseconds and a count. */
export function microsecondsEach(ms: number, count: number): string {
  return `${((ms * 1000) / count).toFixed(1)} µs`;
}

/** `1.80x` — how many times `value` is `baseline`. */
export function times(value: number, baseline: number): string {
  return `${(value / baseline).toFixed(2)}x`;
}

/** Prints one aligned `label  value` line under a benchmark's heading. */
export function printFigure(label: string, value: string): void {
  console.log(`  ${label.padEnd(40)} ${value}`);
}

/** A whole number read from the environment, or the default; a bad value is an error naming the variable. */
export function sizeFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number, not "${text}".`);
  return value;
}

/** `2 CPUs, load 1.25, Node v20.19.0`: the conditions a figure was measured under (a busy machine skews them). */
export function machineConditions(): string {
  return `${availableParallelism()} CPUs, load average ${loadavg()[0]?.toFixed(2)} (1 min), Node ${process.version}`;
}
