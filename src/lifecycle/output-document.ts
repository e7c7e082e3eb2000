import type { OutputDocument } from '../outputs/index.js';
import type { Flight } from './flight.js';

/** What an output is made of and how it was made, as the lane that produced it knows it. */
export interface OutputFacts {
  record: { id: string; predecessorId: string | null };
  output: unknown;
  prompt: { name: string; version: string; hash: string; templateHash?: string };
  model: string;
  /** Content hash of the record as it was sent. */
  sourceHash?: string | null;
  flight: Flight;
  /** The batch job's remote name (`batches/…`), when it has one; the job id otherwise. */
  jobName?: string | null;
  attempt: number;
  usage: { inputTokens: number; outputTokens: number };
  /** Epoch ms. */
  completedAt: number;
}

/**
 * The document written for a valid output, lane-neutral: `meta.job` names the batch job or the
 * synchronous request it came in, `meta.lane` the synchronous lane (batch outputs keep their old shape).
 */
export function outputDocument(facts: OutputFacts): OutputDocument {
  const { flight, prompt } = facts;
  return {
    id: facts.record.id,
    output: facts.output,
    meta: {
      prompt: {
        name: prompt.name,
        version: prompt.version,
        hash: prompt.hash,
        ...(prompt.templateHash ? { template: prompt.templateHash } : {}),
      },
      model: facts.model,
      ...(facts.sourceHash ? { source: { hash: facts.sourceHash } } : {}),
      job: flight.lane === 'batch' ? (facts.jobName ?? flight.jobId) : flight.requestId,
      ...(flight.lane === 'batch' ? {} : { lane: flight.lane }),
      attempt: facts.attempt,
      usage: facts.usage,
      completedAt: new Date(facts.completedAt).toISOString(),
      ...(facts.record.predecessorId ? { contextFrom: facts.record.predecessorId } : {}),
    },
  };
}
