import type { RecordFault } from './model/index.js';
import type { CallKind, FaultPlan, HttpFault, JobFault } from './fault-plan.js';
import { seededRandom, type Random } from './seeded-random.js';

/**
 * The live state of a FaultPlan: which byKey faults were consumed, how many jobs were created,
 * how often each HTTP fault fired. Replacing the plan restarts all of it.
 */
export class FaultInjector {
  private plan: FaultPlan = {};
  private byKeyUsed = new Map<string, number>();
  private jobsCreated = 0;
  private httpFired: number[] = [];
  private recordRandom: Random;
  private jobRandom: Random;
  private httpRandom: Random;
  private rowRandom: Random;
  private fileRandom: Random;

  constructor(seed: number, plan: FaultPlan) {
    this.recordRandom = seededRandom(seed, 'record-faults');
    this.jobRandom = seededRandom(seed, 'job-faults');
    this.httpRandom = seededRandom(seed, 'http-faults');
    this.rowRandom = seededRandom(seed, 'row-faults');
    this.fileRandom = seededRandom(seed, 'file-faults');
    this.replace(plan);
  }

  /** Installs a new plan; byKey counters, the job sequence and HTTP counts restart. */
  replace(plan: FaultPlan): void {
    this.plan = structuredClone(plan);
    this.byKeyUsed = new Map();
    this.jobsCreated = 0;
    this.httpFired = (plan.http ?? []).map(() => 0);
  }

  /** The fault for one processed request: the key's next byKey fault (batch only), else a rate draw. */
  recordFault(key: string | null): RecordFault | null {
    if (key !== null) {
      const queue = this.plan.byKey?.[key];
      const used = this.byKeyUsed.get(key) ?? 0;
      if (queue && used < queue.length) {
        this.byKeyUsed.set(key, used + 1);
        return queue[used] ?? null;
      }
    }
    for (const [fault, rate] of Object.entries(this.plan.rates ?? {}) as Array<
      [RecordFault, number | undefined]
    >) {
      if (rate && this.recordRandom() < rate) return fault;
    }
    return null;
  }

  /** The message a FAILED job carries, if the plan names one. */
  jobFailureMessage(): string | undefined {
    return this.plan.jobFailureMessage;
  }

  /** How the next created job ends: jobSequence first, then one draw against jobRates. */
  nextJobFault(): JobFault {
    const index = this.jobsCreated++;
    const fromSequence = this.plan.jobSequence?.[index];
    if (fromSequence) return fromSequence;
    const rates = this.plan.jobRates ?? {};
    const faults: Array<[JobFault, number]> = [
      ['job_failed', rates.failed ?? 0],
      ['job_expired', rates.expired ?? 0],
      ['job_stuck', rates.stuck ?? 0],
      ['job_rows_failed', rates.rows_failed ?? 0],
      ['job_no_metadata', rates.no_metadata ?? 0],
    ];
    if (faults.every(([, rate]) => rate <= 0)) return 'none';
    let draw = this.jobRandom();
    for (const [fault, rate] of faults) {
      if (draw < rate) return fault;
      draw -= rate;
    }
    return 'none';
  }

  /** What happens to one answered row of a job's output: left out, written twice, or nothing. */
  rowFault(): 'missing' | 'duplicated' | null {
    const { missing = 0, duplicated = 0 } = this.plan.rowRates ?? {};
    if (missing <= 0 && duplicated <= 0) return null;
    const draw = this.rowRandom();
    if (draw < missing) return 'missing';
    if (draw < missing + duplicated) return 'duplicated';
    return null;
  }

  /** Whether this upload stays PROCESSING until it expires. */
  uploadStuck(): boolean {
    const rate = this.plan.fileRates?.stuck_processing ?? 0;
    return rate > 0 && this.fileRandom() < rate;
  }

  /** Whether uploads declared with this MIME type are refused. */
  refusesMimeType(mimeType: string): boolean {
    return this.plan.refuseMimeTypes?.includes(mimeType) ?? false;
  }

  /** The HTTP fault to answer this call with, if any (consumes one use of the matching entry). */
  httpFault(kind: CallKind): HttpFault | null {
    const entries = this.plan.http ?? [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (!entry) continue;
      const match = entry.match ?? 'any';
      if (match !== 'any' && match !== kind) continue;
      const fired = this.httpFired[i] ?? 0;
      if (entry.count !== undefined && fired >= entry.count) continue;
      if (entry.rate !== undefined && this.httpRandom() >= entry.rate) continue;
      this.httpFired[i] = fired + 1;
      return entry.kind;
    }
    return null;
  }

  /** How often each entry of the plan's `http` list has fired so far, in the plan's order. */
  httpFaultsFired(): number[] {
    return [...this.httpFired];
  }

  /** Real milliseconds to wait before answering a call of this kind. */
  delayMs(kind: CallKind): number {
    const slow = this.plan.slowMs ?? {};
    return (slow[kind] ?? 0) + (kind === 'any' ? 0 : (slow.any ?? 0));
  }
}
