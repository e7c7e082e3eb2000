import { describe, expect, it } from 'vitest';
import { TokenCalibration } from '../../src/runner/token-calibration.js';

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
