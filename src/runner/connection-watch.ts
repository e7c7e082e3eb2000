import type { RunnerClock } from '../clock.js';
import { WavebatchError } from '../errors.js';
import { GeminiApiError, type GeminiClient } from '../gemini/index.js';

/** Raised when the API gave no answer at all (refused, unresolvable, timed out) for `give_up_after`. */
export class ApiUnreachableError extends WavebatchError {
  readonly code = 'API_UNREACHABLE';
  constructor(
    readonly baseUrl: string,
    readonly downForMs: number,
    readonly lastCause: string,
  ) {
    super(
      // The cause (a connection failure) already says to check the network and the base URL.
      `The Gemini API at ${baseUrl} has not answered for ${Math.round(downForMs / 1000)} s; last cause: ` +
        `${lastCause} A proxy in the way may be why too; raise execution.give_up_after to wait longer. ` +
        'Nothing is lost: run again to resume where this stopped.',
    );
  }
}

/**
 * Tells a passing network blip from an API that cannot be reached: every remote call reports whether
 * the server answered (any HTTP status counts: the server is there), and once nothing but connection
 * failures were seen for `giveUpAfterMs`, `check()` throws ApiUnreachableError.
 */
export class ConnectionWatch {
  private downSince: number | null = null;
  private lastCause = '';

  constructor(
    private readonly clock: RunnerClock,
    private readonly baseUrl: string,
    private readonly giveUpAfterMs: number,
  ) {}

  /** The server answered (success or an HTTP error): it is reachable. */
  answered(): void {
    this.downSince = null;
  }

  /** A call failed; only a failure to get any answer counts against reachability. */
  failed(error: unknown): void {
    if (!GeminiApiError.isInstance(error)) return;
    // An answer cut off half-way came from a server that is there (and billed the call).
    if (error.status !== undefined || error.code !== 'NETWORK' || error.answerCut) {
      this.answered();
      return;
    }
    this.downSince ??= this.clock.now();
    this.lastCause = error.message;
  }

  /** Throws ApiUnreachableError once the API has been unreachable for too long. */
  check(): void {
    if (this.downSince === null) return;
    const downFor = this.clock.now() - this.downSince;
    if (downFor >= this.giveUpAfterMs) throw new ApiUnreachableError(this.baseUrl, downFor, this.lastCause);
  }
}

/**
 * `generateContent` reporting every outcome to `watch`: the synchronous lanes call the client
 * directly (their executor retries on its own), and a run on them must stop on an unreachable API
 * after `give_up_after` as a batch run does, not retry it forever.
 */
export function watchedGenerate(
  client: Pick<GeminiClient, 'generateContent'>,
  watch: ConnectionWatch,
): Pick<GeminiClient, 'generateContent'> {
  return {
    generateContent: async (...args) => {
      try {
        const answer = await client.generateContent(...args);
        watch.answered();
        return answer;
      } catch (error) {
        // A call the lane gave up on itself (its request timeout, or the run stopping) says nothing
        // about reachability: a slow Flex tier would otherwise stop the run as unreachable after
        // give_up_after (15 min) while the lane waits 20 min for each answer. A connection that
        // cannot be made still fails on its own, long before the lane's timeout.
        if (!args[2]?.signal?.aborted) watch.failed(error);
        throw error;
      }
    },
  };
}
