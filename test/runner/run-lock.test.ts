import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock, RunLockedError } from '../../src/runner/run-lock.js';
import { TokenCalibration } from '../../src/runner/token-calibration.js';

describe('acquireRunLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('excludes a second holder while the first is alive, and frees on release', async () => {
    const release = await acquireRunLock(dir);
    await expect(acquireRunLock(dir)).rejects.toBeInstanceOf(RunLockedError);
    await release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
    const again = await acquireRunLock(dir);
    await again();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    // A pid that certainly exited: a child we ran to completion.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(dir, 'run.lock'), child.stdout);
    const release = await acquireRunLock(dir);
    await release();
  });
});

describe('TokenCalibration', () => {
  it('keeps raw estimates until there is evidence, then follows it within bounds', () => {
    const calibration = new TokenCalibration();
    calibration.observe(100, 150);
    expect(calibration.scale()).toBe(1);
    calibration.observe(900, 1350);
    expect(calibration.scale()).toBeCloseTo(1.5);
    calibration.observe(1000, 100_000);
    expect(calibration.scale()).toBe(4);
  });
});
