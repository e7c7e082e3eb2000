/**
 * Numbers, durations and money as a person reads them: the CLI's views, the runner's log lines and
 * the run report say them the same way ("2 requests (8 records)", "1,234,567").
 */

/** 1234567 → "1,234,567". */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** "1 record", "3 records". */
export function counted(value: number, noun: string): string {
  return `${count(value)} ${noun}${value === 1 ? '' : 's'}`;
}

/** A job's requests, and its records when they travel grouped: "4 requests", "2 requests (8 records)". */
export function requestsOf(requests: number, records: number): string {
  return requests === records
    ? counted(requests, 'request')
    : `${counted(requests, 'request')} (${counted(records, 'record')})`;
}

/**
 * Milliseconds → "0.3s", "45s", "12m", "3h 05m", "2d 04h". Under a second to a tenth: on the
 * emulator (and for a fast job) a turnaround or an age of 300 ms printed as "0s" read as nothing.
 */
export function duration(ms: number): string {
  if (ms >= 50 && ms < 950) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, '0')}h`;
}

/**
 * USD to four decimals, as a cost cap and what it holds are compared ("$0.0013"), and to two
 * significant figures below a hundredth of a cent: a cap of $0.00001 read "$0.0000", as if none.
 */
export function usdFine(value: number): string {
  return value === 0 || Math.abs(value) >= 0.0001 ? `$${value.toFixed(4)}` : `$${value.toPrecision(2)}`;
}

/** USD with enough digits to see small amounts: "$0.0042", "$12.35". */
export function usd(value: number): string {
  if (value === 0) return '$0.00';
  return value < 1 ? `$${value.toPrecision(2)}` : `$${value.toFixed(2)}`;
}
