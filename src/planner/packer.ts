/** A runnable request with its estimated size, in priority order. */
export interface PackCandidate {
  /** The record the request is for; a grouped request's first record. */
  recordId: string;
  /** A grouped request's records (`records_per_request`), `recordId` first; absent for one record. */
  group?: readonly string[];
  estimatedTokens: number;
  /** The part of `estimatedTokens` that is audio (billed at the audio rate); none when absent. */
  audioTokens?: number;
  bytes: number;
  /**
   * Records of a split job (stalled, or refused as too large): packed only with the same group, at
   * most `cap` to a job, so the job's records go again as smaller jobs of their own; `file`: in an
   * uploaded file, never inline (an inline job of them was too large for one call).
   */
  split?: { group: string; cap: number; file?: boolean };
}

export interface PackLimits {
  /** Jobs that may still be created now (max concurrent jobs minus active ones). */
  freeJobSlots: number;
  maxRequestsPerJob: number;
  /** Largest serialized job (an uploaded JSONL file or inline payload). */
  maxJobBytes: number;
  /** Enqueued tokens still free under the per-model budget. */
  freeTokens: number;
  /** The whole per-model budget: a request larger than it can never be enqueued. */
  tokenBudget: number;
  /** Jobs whose payload is at most this many bytes are sent inline instead of as an uploaded file. */
  inlineMaxBytes: number;
}

export interface PackedJob {
  kind: 'inline' | 'file';
  members: PackCandidate[];
  estimatedTokens: number;
  bytes: number;
}

export interface PackResult {
  jobs: PackedJob[];
  /** Requests that can never fit a job (alone over the token budget or the job byte cap). */
  oversized: PackCandidate[];
  /**
   * Whether the last job could take more requests: it is under its request cap (or its split's),
   * and the candidates ran out rather than a job slot or the token budget stopping the packing.
   */
  lastJobOpen: boolean;
}

/**
 * Packs candidates, already in priority order, into as few jobs as the limits allow. Packing stops
 * at the first request the token budget cannot take, so a large high-priority request is not
 * starved by smaller ones behind it; it goes first once budget frees up.
 */
export function packJobs(candidates: readonly PackCandidate[], limits: PackLimits): PackResult {
  const jobs: PackedJob[] = [];
  const oversized: PackCandidate[] = [];
  let freeTokens = limits.freeTokens;
  let current: PackedJob | null = null;
  let stopped = false;
  let lastClosed = false;

  for (const candidate of candidates) {
    if (candidate.estimatedTokens > limits.tokenBudget || candidate.bytes > limits.maxJobBytes) {
      oversized.push(candidate);
      continue;
    }
    if (candidate.estimatedTokens > freeTokens) {
      stopped = true;
      break;
    }
    const fits =
      current !== null &&
      current.members.length < Math.min(limits.maxRequestsPerJob, candidate.split?.cap ?? Infinity) &&
      current.members[0]?.split?.group === candidate.split?.group &&
      current.bytes + candidate.bytes <= limits.maxJobBytes;
    if (!fits) {
      if (jobs.length >= limits.freeJobSlots) {
        stopped = true;
        break;
      }
      current = { kind: 'inline', members: [], estimatedTokens: 0, bytes: 0 };
      jobs.push(current);
    }
    const job = current as PackedJob;
    job.members.push(candidate);
    job.estimatedTokens += candidate.estimatedTokens;
    job.bytes += candidate.bytes;
    freeTokens -= candidate.estimatedTokens;
    lastClosed = job.members.length >= Math.min(limits.maxRequestsPerJob, candidate.split?.cap ?? Infinity);
  }
  for (const job of jobs)
    job.kind = job.bytes <= limits.inlineMaxBytes && !job.members[0]?.split?.file ? 'inline' : 'file';
  return { jobs, oversized, lastJobOpen: jobs.length > 0 && !stopped && !lastClosed };
}
