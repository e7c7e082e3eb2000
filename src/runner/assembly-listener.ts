import type { AssembleConfig } from '../config/index.js';
import {
  ChainAssembler,
  type AssemblyStateStore,
  type ChainRecordSource,
  type OutputSink,
} from '../outputs/index.js';
import type { RunnerEvent } from './events.js';
import { describeError } from '../errors.js';

/** Feeds a run's events to the chain assembler: what changed, and when to rebuild it. */
export interface AssemblyListener {
  handle(event: RunnerEvent): void;
  /** Resolves once every queued rebuild has finished (awaited before the sink is closed). */
  settled(): Promise<void>;
}

/**
 * `outputs.assemble` during a run. Once the run's start-up sync has reconciled the outputs, the
 * documents of every chain whose records changed since its document was written are rebuilt (a
 * crash may have kept completions from being assembled); after that, a record done or dead-lettered
 * marks its chain, and the chains marked are rebuilt at the end of each pass and of the run, so a
 * document is written at most once a pass however many of its records completed. Assembly failures
 * are warnings: outputs are safe in the sink either way.
 */
export function assemblyListener(
  settings: AssembleConfig,
  store: ChainRecordSource & AssemblyStateStore,
  outputs: Pick<OutputSink, 'read'>,
  warn: (message: string) => void,
): AssemblyListener {
  const assembler = new ChainAssembler(
    settings,
    store,
    outputs,
    (error) => warn(`assembled documents not updated: ${describeError(error)}`),
    store,
  );
  let caughtUp = false;
  return {
    handle(event) {
      switch (event.type) {
        case 'sync':
          if (!caughtUp) void assembler.catchUp();
          caughtUp = true;
          return;
        case 'record-done':
          assembler.note(event.recordId);
          return;
        case 'record-failed':
          if (event.outcome === 'dead') assembler.note(event.recordId);
          return;
        case 'job-processed':
        case 'progress':
        case 'run-finished':
          void assembler.flush();
          return;
        default:
          return;
      }
    },
    settled: () => assembler.settled(),
  };
}
