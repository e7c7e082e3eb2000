import { WavebatchError } from '../errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const AGE = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/;

/** Raised for a time or age option that is neither an ISO date nor an age like `30d`. */
export class TimeOptionError extends WavebatchError {
  readonly code = 'INPUT_TIME';
  constructor(option: string, value: string) {
    super(
      `${option}: expected an ISO date (2025-06-01, 2025-06-01T12:00:00Z) or an age (90s, 30m, 12h, 30d, 2w), got "${value}".`,
    );
  }
}

/** Milliseconds in an age such as `30d` or `12h`; undefined when `text` is not one. */
export function parseAge(text: string): number | undefined {
  const match = AGE.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** A point in time given as an ISO date or as an age before `now`; throws TimeOptionError otherwise. */
export function parseInstant(option: string, text: string, now: number): Date {
  const age = parseAge(text);
  if (age !== undefined) return new Date(now - age);
  const parsed = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || !Number.isFinite(parsed))
    throw new TimeOptionError(option, text);
  return new Date(parsed);
}
