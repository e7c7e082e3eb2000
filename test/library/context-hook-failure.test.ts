import { describe, expect, it } from 'vitest';
import { runWorkload, WorkloadService, type WorkloadRecord } from '../../src/index.js';
import { useNotesWorkspace } from '../fixtures/notes-definition.js';

// An extractContext hook is user code: one that threw crashed the whole run at dispatch (the batch
// lane's sizing, the synchronous lanes' request building) instead of failing the record it was for.
describe('an extractContext hook that throws for one record', () => {
  const workspace = useNotesWorkspace('context-hook');

  // Chain `notes` has three notes (n2 needs n1's context, n3 needs n2's); `solo` has one note each.
  async function* notes(): AsyncIterable<WorkloadRecord> {
    for (const n of [1, 2, 3])
      yield { id: `notes/n${n}`, chainId: 'notes', position: n, vars: { n: `notes/n${n}` }, media: [] };
    for (const n of [1, 2])
      yield { id: `solo${n}/n1`, chainId: `solo${n}`, position: 1, vars: { n: `solo${n}/n1` }, media: [] };
  }

  const huge = 'z'.repeat(1_000_000);
  const definition = (mode: 'batch' | 'realtime') =>
    workspace.definition(`hook-${mode}`, notes, {
      hooks: {
        extractContext: (output: unknown) => {
          throw new Error(`No carry-over in ${JSON.stringify(output)}: ${huge}`);
        },
      },
      execution: { mode, max_retries: 1 },
    });

  for (const mode of ['batch', 'realtime'] as const) {
    it(`on the ${mode} lane: dead-letters that record with the hook's message, the rest are done`, async () => {
      const summary = await runWorkload(definition(mode));
      expect(summary).toMatchObject({ counts: { done: 3, dead: 1, blocked: 1, total: 5 } });
      // Billed once each (the note named in the prompt); nothing was sent for the record whose context could not be extracted.
      expect(
        workspace.emulator.ledger
          .entries()
          .map((entry) => /Summarise note (\S+)\./.exec(entry.promptText)?.[1])
          .sort(),
      ).toEqual(['notes/n1', 'solo1/n1', 'solo2/n1']);

      const service = await WorkloadService.load(definition(mode));
      try {
        const failures = await service.failures();
        expect(failures).toHaveLength(1);
        const [failure] = failures;
        expect(failure).toMatchObject({ recordId: 'notes/n2', cause: 'input_error', final: true });
        expect(failure!.message).toContain(
          'extractContext failed for notes/n2 on the output of notes/n1: No carry-over in ',
        );
        expect(failure!.message).toContain('[truncated: ');
        expect(failure!.message.length).toBeLessThan(5000);
        expect((await service.status()).records).toMatchObject({ done: 3, dead: 1, blocked: 1 });
      } finally {
        await service.close();
      }
    }, 30_000);
  }
});
