import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InferenceEvent, JobAttempts } from '../../src/store/event-log.js';
import type { JobMember, NewJob, WorkloadStore } from '../../src/store/store.js';
import { AttemptEventFactory, emptyEvent } from '../../src/telemetry/attempt-event.js';
import type { WorkloadRecord } from '../../src/workload/record.js';

/**
 * One store's backing state for one test: `open` may be called again after the store was closed
 * (it must see the same state: that is what "survives reopening" means); `destroy` removes it.
 */
export interface StoreBackend {
  open(): Promise<WorkloadStore>;
  destroy(): Promise<void>;
}

/** Makes fresh, empty backing state for each test (a temp SQLite file, a new PostgreSQL schema). */
export type StoreBackendFactory = () => Promise<StoreBackend>;

async function* stream(records: WorkloadRecord[]): AsyncIterable<WorkloadRecord> {
  yield* records;
}

/** A synchronous request's answer for a claimed record: one token in, one out. */
function done(recordId: string, requestId: string) {
  return { recordId, jobId: null, requestId, inputTokens: 1, outputTokens: 1 };
}

/** A job's member: `recordId`'s `attempt`, prompt hash 'h', `estimatedTokens` tokens. */
function member(recordId: string, attempt = 0, estimatedTokens = 1): JobMember {
  return { recordId, attempt, promptHash: 'h', estimatedTokens };
}

/** A new batch job `id` of model 'm' holding `members`. */
function newJob(id: string, members: JobMember[], kind: NewJob['kind'] = 'inline'): NewJob {
  return { id, model: 'm', kind, members };
}

/** A batch job's answer for a record of it: five tokens in, seven out unless told. */
function success(recordId: string, jobId: string, inputTokens = 5, outputTokens = 7) {
  return { recordId, jobId, inputTokens, outputTokens };
}

function page(chain: string, position: number): WorkloadRecord {
  return { id: `${chain}/p${position}`, chainId: chain, position, vars: { page: position }, media: [] };
}

/**
 * The contract every WorkloadStore keeps, as one suite: a backend (SQLite today, PostgreSQL next) is
 * done when it passes. Run it from the backend's own test file with a factory of fresh state.
 */
export function describeStoreContract(name: string, factory: StoreBackendFactory): void {
  describe(`${name}: the store contract`, () => {
    let backend: StoreBackend;
    let store: WorkloadStore;

    beforeEach(async () => {
      backend = await factory();
      store = await backend.open();
      // Positions arrive out of order on purpose: chains are linked by position, not arrival.
      await store.syncRecords(() => stream([page('a', 2), page('a', 1), page('a', 3), page('b', 1)]));
      await store.linkChains();
      await store.refreshReadiness();
    });

    afterEach(async () => {
      await store.close();
      await backend.destroy();
    });

    it('links chains by position and makes only chain heads ready, longest chain first', async () => {
      expect((await store.getRecord('a/p2'))?.predecessorId).toBe('a/p1');
      expect((await store.getRecord('a/p1'))?.predecessorId).toBeNull();
      expect((await store.getRecord('a/p1'))?.remaining).toBe(3);
      const ready = await store.listReady(10);
      expect(ready.map((r) => r.id)).toEqual(['a/p1', 'b/p1']);
      expect(await store.counts()).toMatchObject({ ready: 2, blocked: 2, total: 4 });
    });

    it('links a chain whose records the source interleaves with other chains, or lists again elsewhere', async () => {
      // c and d alternate; e's pages come in two runs, the second placing a page before the first run's.
      await store.syncRecords(() =>
        stream([
          page('c', 1),
          page('d', 1),
          page('c', 2),
          page('d', 2),
          page('e', 2),
          page('a', 4),
          page('e', 1),
        ]),
      );
      await store.linkChains();
      await store.refreshReadiness();
      const links = async (ids: string[]) =>
        Promise.all(ids.map(async (id) => store.getRecord(id))).then((records) =>
          records.map((record) => [record?.id, record?.predecessorId, record?.remaining, record?.status]),
        );
      expect(await links(['c/p1', 'c/p2', 'd/p1', 'd/p2', 'e/p1', 'e/p2', 'a/p3', 'a/p4'])).toEqual([
        ['c/p1', null, 2, 'ready'],
        ['c/p2', 'c/p1', 1, 'blocked'],
        ['d/p1', null, 2, 'ready'],
        ['d/p2', 'd/p1', 1, 'blocked'],
        ['e/p1', null, 2, 'ready'],
        ['e/p2', 'e/p1', 1, 'blocked'],
        ['a/p3', 'a/p2', 2, 'blocked'],
        ['a/p4', 'a/p3', 1, 'blocked'],
      ]);
    });

    it('links a new store in its first sync as linkChains does, and says so only when it did', async () => {
      type Link = [string, string | null, number, string];
      /** Syncs `records` into a fresh store the way a run does; the links, and whether the sync linked. */
      const firstSync = async (records: WorkloadRecord[]) => {
        const fresh = await factory();
        const first = await fresh.open();
        try {
          const { linked } = await first.syncRecords(() => stream(records));
          // As a run's start does: a sync that says linked set readiness too (workload-sync.ts).
          if (!linked) {
            await first.linkChains();
            await first.refreshReadiness();
          }
          const links = async () =>
            Promise.all(records.map(async (r) => first.getRecord(r.id))).then((rows) =>
              rows.map((row): Link => [
                row?.id ?? '?',
                row?.predecessorId ?? null,
                row?.remaining ?? 0,
                row?.status ?? '?',
              ]),
            );
          const before = await links();
          // linkChains and refreshReadiness are the truth: after a sync that says linked, they change nothing.
          await first.linkChains();
          await first.refreshReadiness();
          expect(await links()).toEqual(before);
          return { linked, links: new Map(before.map((link) => [link[0], link])) };
        } finally {
          await first.close();
          await fresh.destroy();
        }
      };

      // Each chain listed together, positions out of order within it: linked in the sync.
      const together = await firstSync([page('a', 3), page('a', 1), page('a', 2), page('b', 1)]);
      expect(together.linked).toBe(true);
      expect([...together.links.values()]).toEqual([
        ['a/p3', 'a/p2', 1, 'blocked'],
        ['a/p1', null, 3, 'ready'],
        ['a/p2', 'a/p1', 2, 'blocked'],
        ['b/p1', null, 1, 'ready'],
      ]);
      // Interleaved chains, and a chain listed in two runs (the second before the first): put right.
      const interleaved = await firstSync([
        page('c', 1),
        page('d', 1),
        page('c', 2),
        page('e', 2),
        page('d', 2),
        page('e', 1),
      ]);
      expect(interleaved.linked).toBe(false);
      expect(['c/p2', 'd/p2', 'e/p1', 'e/p2'].map((id) => interleaved.links.get(id))).toEqual([
        ['c/p2', 'c/p1', 1, 'blocked'],
        ['d/p2', 'd/p1', 1, 'blocked'],
        ['e/p1', null, 2, 'ready'],
        ['e/p2', 'e/p1', 1, 'blocked'],
      ]);
      // A chain longer than a sync holds at once (ten thousand pages) comes linked all the same.
      const long = await firstSync(Array.from({ length: 10_050 }, (_, index) => page('long', index + 1)));
      // …by linkChains: the sync held ten thousand, cut the run there, and so did not say linked.
      expect(long.linked).toBe(false);
      expect(long.links.get('long/p1')).toEqual(['long/p1', null, 10_050, 'ready']);
      expect(long.links.get('long/p10001')).toEqual(['long/p10001', 'long/p10000', 50, 'blocked']);
      expect(long.links.get('long/p10050')).toEqual(['long/p10050', 'long/p10049', 1, 'blocked']);
      // A later sync never says linked: its records join chains already stored.
      expect((await store.syncRecords(() => stream([page('a', 4)]))).linked).toBe(false);
    });

    it('says whether a record is open (ready or in flight), within the scope while one is set', async () => {
      const open = async () => {
        const counts = await store.counts();
        // The cheap probe agrees with the full count.
        expect(await store.hasOpenRecords()).toBe(counts.ready + counts.in_flight > 0);
        return store.hasOpenRecords();
      };
      expect(await open()).toBe(true);
      // Claimed records are in flight: still open.
      expect(await store.claimReady({ lane: 'flex', limit: 10, claimId: 'c' })).toHaveLength(2);
      expect(await open()).toBe(true);
      expect(await store.completeRecords([done('b/p1', 'c-1')])).toBe(1);
      // A scope of settled and blocked records has nothing open, while a/p1 is in flight outside it.
      await store.scopeTo(['b/p1', 'a/p3']);
      expect(await open()).toBe(false);
      await store.scopeTo(null);
      expect(await open()).toBe(true);
      expect(await store.completeRecords([done('a/p1', 'c-0')])).toBe(1);
      // a/p2 was unblocked by a/p1: open until it is done too.
      expect(await open()).toBe(true);
      await store.scopeTo(['a/p1']);
      expect(await open()).toBe(false);
      await store.scopeTo(null);
    });

    it("tells which chains' assembled documents are stale: changed since their state was saved", async () => {
      const stale = async (filter: Partial<Parameters<WorkloadStore['assemblyStates']>[0]> = {}) =>
        (await store.assemblyStates({ salt: 's', limit: 10, ...filter }))
          .filter((state) => state.changed)
          .map((state) => state.chainId);
      // No chain has a done record: no document to write.
      expect(await store.assemblyStates({ salt: 's', limit: 10 })).toEqual([]);
      expect(await store.claimReady({ lane: 'flex', limit: 10, claimId: 'c' })).toHaveLength(2);
      expect(await store.completeRecords([done('a/p1', 'c-0'), done('b/p1', 'c-1')])).toBe(2);
      expect(await stale()).toEqual(['a', 'b']);
      await store.saveAssemblyStates(await store.assemblyStates({ salt: 's', limit: 10 }));
      expect(await stale()).toEqual([]);
      // Other settings: all stale again.
      expect(await stale({ salt: 'other' })).toEqual(['a', 'b']);
      // Paged in chain order, or only the chains named.
      const chains = async (filter: Partial<Parameters<WorkloadStore['assemblyStates']>[0]>) =>
        (await store.assemblyStates({ salt: 's', limit: 10, ...filter })).map((state) => state.chainId);
      expect(await chains({ limit: 1 })).toEqual(['a']);
      expect(await chains({ afterChain: 'a' })).toEqual(['b']);
      expect(await chains({ chainIds: ['b', 'zz'] })).toEqual(['b']);

      // a/p2 done: chain a changed, b did not; the saved states survive reopening.
      expect(await store.claimReady({ lane: 'flex', limit: 10, claimId: 'd' })).toHaveLength(1);
      expect(await store.completeRecords([done('a/p2', 'd-0')])).toBe(1);
      await store.close();
      store = await backend.open();
      expect(await stale()).toEqual(['a']);
      // Sent again: b changes although it ends done once more.
      expect(await store.markForRedo(['b/p1'])).toBe(1);
      expect(await stale()).toEqual(['a']);
      expect(await store.claimReady({ lane: 'flex', limit: 10, claimId: 'e' })).toHaveLength(2);
      expect(await store.completeRecords([done('b/p1', 'e-1'), done('a/p3', 'e-0')])).toBe(2);
      expect(await stale()).toEqual(['a', 'b']);
    });

    it('counts chains by how far they got, billed tokens and recent completions', async () => {
      const none = { done: 0, inProgress: 0, notStarted: 0, blocked: 0, recordsBehindDeadLetters: 0 };
      const fresh = await factory();
      const empty = await fresh.open();
      expect(await empty.chainCounts()).toEqual({ ...none, total: 0 });
      await empty.close();
      await fresh.destroy();
      await store.syncRecords(() => stream([page('c', 1), page('c', 2), page('d', 1)]));
      await store.linkChains();
      await store.refreshReadiness();
      // Nothing started: a (ready head, two blocked), b, c, d.
      expect(await store.chainCounts()).toEqual({ ...none, total: 4, notStarted: 4 });
      const claimed = await store.claimReady({ lane: 'flex', limit: 10, claimId: 'r' });
      const request = new Map(claimed.map((record) => [record.id, record.requestId]));
      expect([...request.keys()].sort()).toEqual(['a/p1', 'b/p1', 'c/p1', 'd/p1']);
      const answer = (recordId: string, inputTokens: number, outputTokens: number) => ({
        ...done(recordId, request.get(recordId) as string),
        inputTokens,
        outputTokens,
      });
      // a/p1 a short prompt, b/p1 a long one (above 100 tokens), c/p1 dead-lettered, d/p1 in flight.
      expect(await store.completeRecords([answer('a/p1', 10, 5), answer('b/p1', 500, 7)])).toBe(2);
      const failure = {
        recordId: 'c/p1',
        jobId: null,
        requestId: request.get('c/p1') as string,
        attempt: 0,
        cause: 'input_error',
        message: 'unreadable',
        raw: null,
        promptName: 'p',
        promptVersion: 'v1',
        promptHash: null,
      };
      expect(await store.failRecord(failure, 3, false)).toBe('dead');

      expect(await store.counts()).toEqual({
        blocked: 2,
        ready: 1,
        in_flight: 1,
        done: 2,
        dead: 1,
        total: 7,
      });
      // b done; a and d under way; c blocked by its dead letter, with c/p2 behind it.
      expect(await store.chainCounts()).toEqual({
        total: 4,
        done: 1,
        inProgress: 2,
        notStarted: 0,
        blocked: 1,
        recordsBehindDeadLetters: 1,
      });
      expect(await store.completedUsage(100, '2000-01-01T00:00:00.000Z')).toEqual({
        short: { records: 1, inputTokens: 10, outputTokens: 5 },
        long: { records: 1, inputTokens: 500, outputTokens: 7 },
        completedSince: 2,
      });
      // No long-context split: every billed record is short.
      expect(await store.completedUsage(null, '2999-01-01T00:00:00.000Z')).toEqual({
        short: { records: 2, inputTokens: 510, outputTokens: 12 },
        long: { records: 0, inputTokens: 0, outputTokens: 0 },
        completedSince: 0,
      });
      expect(await store.longestRunnableChain()).toBe(2);
      // Chains still to run, by records left: a (a/p2 ready, a/p3 behind it) and d (d/p1 in flight);
      // c is behind its dead letter, b is done. A scoped run counts only its own records.
      expect(await store.runnableChainDepths()).toEqual(
        new Map([
          [2, 1],
          [1, 1],
        ]),
      );
      await store.scopeTo(['d/p1', 'c/p2']);
      expect(await store.runnableChainDepths()).toEqual(new Map([[1, 1]]));
      await store.scopeTo(null);

      // d/p1 answered: d done too; a still under way (a/p2 ready, nothing of it in flight).
      expect(await store.completeRecords([answer('d/p1', 1, 1)])).toBe(1);
      expect(await store.chainCounts()).toEqual({
        total: 4,
        done: 2,
        inProgress: 1,
        notStarted: 0,
        blocked: 1,
        recordsBehindDeadLetters: 1,
      });
    });

    it('re-sync is idempotent and keeps state', async () => {
      const summary = await store.syncRecords(() => stream([page('a', 1), page('c', 1)]));
      expect(summary).toEqual({ seen: 2, inserted: 1, linked: false, dropped: 0 });
      expect((await store.counts()).total).toBe(5);
    });

    it("re-sync takes a record's edited variables and media, and keeps the others'", async () => {
      const edited = {
        ...page('a', 2),
        vars: { page: 2, text: 'corrected' },
        media: [{ path: '/scans/p2.png', mimeType: 'image/png' }],
      };
      await store.syncRecords(() => stream([page('a', 1), edited]));
      expect(await store.getRecord('a/p2')).toMatchObject({ vars: edited.vars, media: edited.media });
      expect(await store.getRecord('a/p1')).toMatchObject({ vars: { page: 1 }, media: [] });
      expect((await store.listRecords({ chainId: 'a', order: 'chain' })).map((r) => r.vars)).toEqual([
        { page: 1 },
        edited.vars,
        { page: 3 },
      ]);
    });

    // max_cost prices a job in flight request by request: each member keeps the request it travels in.
    it("keeps each job member's request and audio tokens, and none for a member given no request", async () => {
      await store.syncRecords(() =>
        stream([page('a', 1), page('a', 2), page('a', 3), page('b', 1), page('c', 1), page('d', 1)]),
      );
      await store.linkChains();
      await store.refreshReadiness();
      await store.createJobIntent({
        id: 'job1',
        model: 'm',
        kind: 'inline',
        requests: 2,
        members: [
          { recordId: 'a/p1', attempt: 0, promptHash: 'h', estimatedTokens: 5, audioTokens: 1.5, request: 0 },
          { recordId: 'b/p1', attempt: 0, promptHash: 'h', estimatedTokens: 6, audioTokens: 1.5, request: 0 },
          { recordId: 'c/p1', attempt: 0, promptHash: 'h', estimatedTokens: 300_000, request: 1 },
        ],
      });
      await store.createJobIntent({
        id: 'job2',
        model: 'm',
        kind: 'inline',
        members: [{ recordId: 'd/p1', attempt: 0, promptHash: 'h', estimatedTokens: 7 }],
      });
      expect(await store.jobMembers('job1')).toMatchObject([
        { recordId: 'a/p1', estimatedTokens: 5, audioTokens: 1.5, request: 0 },
        { recordId: 'b/p1', estimatedTokens: 6, audioTokens: 1.5, request: 0 },
        { recordId: 'c/p1', estimatedTokens: 300_000, audioTokens: 0, request: 1 },
      ]);
      const [alone] = await store.jobMembers('job2');
      expect(alone).toMatchObject({ recordId: 'd/p1', audioTokens: 0 });
      expect(alone).not.toHaveProperty('request');
    });

    it("lists a record with its own output's place and its predecessor's, as they were stored", async () => {
      await store.createJobIntent(newJob('job1', [member('a/p1')]));
      const location = { shard: 12, offset: 4_294_967_301, length: 345 };
      await store.completeRecords([
        { recordId: 'a/p1', jobId: 'job1', location, inputTokens: 3, outputTokens: 4 },
      ]);
      const [first, second, third] = await store.listRecords({ chainId: 'a', order: 'chain' });
      expect(first).toMatchObject({ output: location, predecessorOutput: null, media: [] });
      expect(second).toMatchObject({ predecessorId: 'a/p1', predecessorOutput: location, output: null });
      expect(third?.predecessorOutput).toBeNull();
      expect(await store.getRecord('a/p2')).toMatchObject({ predecessorOutput: location });
    });

    it("re-sync takes a record moved to another chain or place, and leaves the unchanged records' state", async () => {
      // a/p1 is done; a/p3 moves to chain b after b/p1; a/p2 and b/p1 are listed as they were.
      await store.createJobIntent(newJob('job1', [member('a/p1')]));
      await store.completeRecords([success('a/p1', 'job1', 3, 4)]);
      const moved = { ...page('a', 3), chainId: 'b', position: 2 };
      const summary = await store.syncRecords(() =>
        stream([page('a', 1), page('a', 2), page('b', 1), moved]),
      );
      expect(summary).toMatchObject({ seen: 4, inserted: 0 });
      await store.linkChains();
      await store.refreshReadiness();
      expect(await store.getRecord('a/p3')).toMatchObject({
        chainId: 'b',
        position: 2,
        predecessorId: 'b/p1',
      });
      expect(await store.getRecord('a/p1')).toMatchObject({
        status: 'done',
        chainId: 'a',
        vars: { page: 1 },
      });
      expect(await store.getRecord('a/p2')).toMatchObject({
        status: 'ready',
        predecessorId: 'a/p1',
        remaining: 1,
      });
      expect((await store.listRecords({ chainId: 'b', order: 'chain' })).map((r) => r.id)).toEqual([
        'b/p1',
        'a/p3',
      ]);
    });

    it('a sync of the whole source drops the unsent records it no longer has, keeps the others, and relinks', async () => {
      await store.syncRecords(() => stream([page('c', 1), page('c', 2)]));
      await store.linkChains();
      await store.refreshReadiness();
      // a/p1 done; c/p1 in flight; b/p1 tried once (its attempt logged) and ready again.
      await store.createJobIntent(newJob('job1', [member('a/p1')]));
      await store.completeRecords([success('a/p1', 'job1', 3, 4)]);
      await store.createJobIntent(newJob('job2', [member('c/p1')]));
      const attempts = new AttemptEventFactory({ now: () => Date.parse('2026-01-01T00:00:00Z') });
      const tried = attempts.create({
        runId: null,
        lane: 'flex',
        model: 'm',
        record: { id: 'b/p1', chainId: 'b', position: 1 },
        prompt: { name: 'p', version: 'v1', hash: 'h' },
        attempt: 0,
        failure: { cause: 'timeout', message: 'no answer', raw: null },
      });
      await store.appendEvents([tried]);

      // The source now lists a/p1, a/p3 and c/p1: a/p2, b/p1 and c/p2 left it (a/p3 stays).
      const partial = await store.syncRecords(() => stream([page('a', 1), page('a', 3), page('c', 1)]));
      expect(partial).toMatchObject({ seen: 3, inserted: 0, dropped: 0 });
      expect((await store.counts()).total).toBe(6);
      const whole = await store.syncRecords(() => stream([page('a', 1), page('a', 3), page('c', 1)]), {
        wholeSource: true,
      });
      expect(whole).toEqual({ seen: 3, inserted: 0, linked: false, dropped: 3 });
      await store.linkChains();
      await store.refreshReadiness();
      for (const id of ['a/p2', 'b/p1', 'c/p2']) expect(await store.getRecord(id)).toBeNull();
      expect(await store.getRecord('a/p1')).toMatchObject({ status: 'done' });
      expect(await store.getRecord('c/p1')).toMatchObject({ status: 'in_flight', jobId: 'job2' });
      // a/p3 now follows a/p1, which is done: it is next.
      expect(await store.getRecord('a/p3')).toMatchObject({ predecessorId: 'a/p1', status: 'ready' });
      expect((await store.listReady(10)).map((record) => record.id)).toEqual(['a/p3']);
      expect(await store.counts()).toMatchObject({ total: 3, done: 1, in_flight: 1, ready: 1 });
      // The log keeps b/p1's attempt, found by its id; listed back, b/p1 is new and keeps its history.
      expect((await store.listEvents({ recordId: 'b/p1' })).map((event) => event.type)).toEqual(['retry']);
      const back = await store.syncRecords(
        () => stream([page('a', 1), page('a', 3), page('c', 1), page('b', 1)]),
        {
          wholeSource: true,
        },
      );
      expect(back).toMatchObject({ inserted: 1, dropped: 0 });
      expect(await store.getRecord('b/p1')).toMatchObject({ vars: { page: 1 } });
      expect(await store.listEvents({ recordId: 'b/p1' })).toHaveLength(1);
    });

    it('claims records into one job only and unblocks the successor on completion', async () => {
      const a1 = member('a/p1', 0, 10);
      await store.createJobIntent(newJob('job1', [a1]));
      await expect(store.createJobIntent(newJob('job2', [a1]))).rejects.toThrow(
        'Record a/p1 is not ready; it cannot join job job2.',
      );
      expect(await store.getJob('job2')).toBeNull();
      // A job of a ready record and one that is not: the whole intent rolls back, naming the one.
      await expect(store.createJobIntent(newJob('job3', [member('b/p1', 0, 10), a1]))).rejects.toThrow(
        'Record a/p1 is not ready; it cannot join job job3.',
      );
      expect(await store.getJob('job3')).toBeNull();
      expect((await store.getRecord('b/p1'))?.status).toBe('ready');
      expect((await store.getRecord('a/p1'))?.status).toBe('in_flight');
      // What applying job1's results reads of its records: who they are, where they stand, and how
      // often their jobs expired (an EXPIRED job's message counts them).
      expect(await store.recordsInJob('job1')).toEqual([
        {
          id: 'a/p1',
          chainId: 'a',
          position: 1,
          predecessorId: null,
          status: 'in_flight',
          jobId: 'job1',
          expiries: 0,
        },
      ]);
      expect(await store.recordsInJob('job3')).toEqual([]);

      expect(await store.completeRecords([success('a/p1', 'job1')])).toBe(1);
      expect(await store.recordsInJob('job1')).toEqual([]);
      // A second completion of the same result (a replay after a crash) changes nothing.
      expect(await store.completeRecords([success('a/p1', 'job1')])).toBe(0);
      expect((await store.getRecord('a/p2'))?.status).toBe('ready');
      expect((await store.getJob('job1'))?.inputTokens).toBe(5);
      await store.createJobIntent(newJob('job4', [member('a/p2', 0, 10)]));
      expect((await store.recordsInJob('job4')).map((r) => [r.id, r.position, r.predecessorId])).toEqual([
        ['a/p2', 2, 'a/p1'],
      ]);
    });

    it('completes many records in one call: only flights of that job count, successors unblock', async () => {
      await store.createJobIntent(newJob('job1', [member('a/p1', 0, 10), member('b/p1', 0, 10)], 'file'));
      expect(await store.completeRecords([])).toBe(0);

      // b/p1 is in flight in job1, not in 'other'; a/p3 is blocked, in no job.
      expect(
        await store.completeRecords([
          success('a/p1', 'job1'),
          success('b/p1', 'other'),
          success('a/p3', 'job1'),
        ]),
      ).toBe(1);
      expect((await store.getRecord('a/p1'))?.status).toBe('done');
      expect((await store.getRecord('a/p2'))?.status).toBe('ready');
      expect((await store.getRecord('b/p1'))?.status).toBe('in_flight');
      expect((await store.getRecord('a/p3'))?.status).toBe('blocked');

      await store.createJobIntent(newJob('job2', [member('a/p2', 0, 10)], 'file'));
      // A replay of a/p1, a duplicate of b/p1 and a/p2 (in flight in job2, not job1) change nothing.
      expect(
        await store.completeRecords([
          success('a/p1', 'job1'),
          success('b/p1', 'job1', 2, 3),
          success('b/p1', 'job1', 2, 3),
          success('a/p2', 'job1'),
        ]),
      ).toBe(1);
      expect((await store.getRecord('b/p1'))?.status).toBe('done');
      expect((await store.getRecord('a/p2'))?.status).toBe('in_flight');
      expect(await store.getJob('job1')).toMatchObject({ inputTokens: 7, outputTokens: 10 });
      expect(await store.getJob('job2')).toMatchObject({ inputTokens: 0, outputTokens: 0 });

      expect(await store.completeRecords([success('a/p2', 'job2')])).toBe(1);
      expect((await store.getRecord('a/p3'))?.status).toBe('ready');
      expect(await store.counts()).toMatchObject({ done: 3, ready: 1, in_flight: 0, blocked: 0 });
    });

    it('retries failures up to max_retries, then dead-letters, and requeues', async () => {
      const failure = (attempt: number) => ({
        recordId: 'b/p1',
        jobId: `j${attempt}`,
        attempt,
        cause: 'invalid_json',
        message: 'bad',
        raw: '{"x":1}',
        promptName: 'p',
        promptVersion: 'v1',
        promptHash: 'h',
      });
      const outcomes: string[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        await store.createJobIntent(newJob(`j${attempt}`, [member('b/p1', attempt)]));
        outcomes.push(await store.failRecord(failure(attempt), 2, true));
      }
      expect(outcomes).toEqual(['retry', 'retry', 'dead']);
      expect(await store.failRecord(failure(2), 2, true)).toBe('stale');
      const dead = await store.listFailures({ deadOnly: true });
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ recordId: 'b/p1', final: true, raw: '{"x":1}', promptVersion: 'v1' });
      expect(await store.failureCauses()).toEqual([{ cause: 'invalid_json', count: 3 }]);
      expect(await store.requeueDead()).toBe(1);
      await store.refreshReadiness();
      expect(await store.getRecord('b/p1')).toMatchObject({ status: 'ready', attempts: 0 });
    });

    it('reconciles with output files: present means done, missing means redo', async () => {
      async function* ids() {
        yield 'a/p1';
        yield 'a/p2';
      }
      expect(await store.reconcileDone(ids())).toEqual({ markedDone: 2, reopened: 0 });
      await store.refreshReadiness();
      expect((await store.getRecord('a/p3'))?.status).toBe('ready');
      async function* onlyFirst() {
        yield 'a/p1';
      }
      expect(await store.reconcileDone(onlyFirst())).toEqual({ markedDone: 0, reopened: 1 });
      await store.refreshReadiness();
      expect((await store.getRecord('a/p2'))?.status).toBe('ready');
      expect((await store.getRecord('a/p3'))?.status).toBe('blocked');
    });

    it('abandoning an intent releases its records; state survives reopening the store', async () => {
      await store.createJobIntent(newJob('j', [member('b/p1')], 'file'));
      await store.close();
      store = await backend.open();
      expect((await store.listJobs(['intent'])).map((j) => j.id)).toEqual(['j']);
      await store.abandonJobIntent('j');
      expect(await store.getJob('j')).toBeNull();
      expect((await store.getRecord('b/p1'))?.status).toBe('ready');
    });

    it('names an input upload unused once no active job has it: replaced, abandoned or settled; through a reset', async () => {
      // Oldest first, but uploads recorded within one millisecond come by name: the lists are compared as sets.
      const unused = async (limit: number) => (await store.unusedInputFiles(limit)).map((file) => file.name);
      await store.createJobIntent(newJob('j1', [member('a/p1')], 'file'));
      await store.createJobIntent(newJob('j2', [member('b/p1')], 'file'));
      await store.recordInputUpload('j1', 'files/one');
      // Recorded before the upload: the intent's input file already, so in use.
      expect(await store.getJob('j1')).toMatchObject({ inputFile: 'files/one' });
      await store.recordInputUpload('j1', 'files/two');
      await store.recordInputUpload('j2', 'files/three');
      expect(await unused(10)).toEqual(['files/one']);
      await store.markJobSubmitted('j1', 'batches/1', 'files/two');
      await store.abandonJobIntent('j2');
      expect((await unused(10)).sort()).toEqual(['files/one', 'files/three'].sort());
      expect(await unused(1)).toEqual(['files/one']);
      await store.forgetInputFile('files/one');
      await store.updateJobState('j1', 'succeeded');
      expect(await unused(10)).toEqual(['files/three']);
      await store.updateJobState('j1', 'processed');
      await store.close();
      store = await backend.open();
      expect((await unused(10)).sort()).toEqual(['files/two', 'files/three'].sort());
      // A reset forgets the jobs, not the uploads: the next run's sweep deletes them all.
      await store.recordInputUpload('j1', 'files/four');
      await store.reset();
      expect((await unused(10)).sort()).toEqual(['files/two', 'files/three', 'files/four'].sort());
    });

    it('holds back an unused upload whose delete failed until its next try is due; the count and time survive reopening', async () => {
      await store.recordInputUpload('gone-job', 'files/one');
      await store.recordInputUpload('gone-job', 'files/two');
      expect(await store.unusedInputFiles(10)).toEqual([
        { name: 'files/one', deleteFailures: 0 },
        { name: 'files/two', deleteFailures: 0 },
      ]);
      await store.deferInputFile('files/one', 3, Date.now() + 3600_000);
      await store.deferInputFile('files/two', 1, Date.now() - 1);
      await store.close();
      store = await backend.open();
      // Held back, it leaves its place in a page of the oldest to the others.
      expect(await store.unusedInputFiles(1)).toEqual([{ name: 'files/two', deleteFailures: 1 }]);
      await store.forgetInputFile('files/two');
      expect(await store.unusedInputFiles(10)).toEqual([]);
    });

    it('completes a ready record with a kept answer only while it is still ready, and unblocks its successor', async () => {
      const kept = (recordId: string) => ({
        recordId,
        jobId: null,
        ready: true,
        inputTokens: 5,
        outputTokens: 7,
      });
      await store.createJobIntent(newJob('job1', [member('b/p1', 0, 10)], 'file'));
      // a/p1 is ready; b/p1 is in flight (a job has it); a/p2 is blocked.
      expect(await store.completeRecords([kept('a/p1'), kept('b/p1'), kept('a/p2')])).toBe(1);
      expect((await store.getRecord('a/p1'))?.status).toBe('done');
      expect((await store.getRecord('b/p1'))?.status).toBe('in_flight');
      expect((await store.getRecord('a/p2'))?.status).toBe('ready');
      // A ready record in neither a job nor a request is not completed without being said to be ready.
      expect(
        await store.completeRecords([{ recordId: 'a/p2', jobId: null, inputTokens: 1, outputTokens: 1 }]),
      ).toBe(0);
      expect(await store.getJob('job1')).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    });

    it('dead-letters a ready record that cannot be sent, without a job', async () => {
      const outcome = await store.failRecord(
        {
          recordId: 'b/p1',
          jobId: null,
          attempt: 0,
          cause: 'input_error',
          message: 'missing file',
          raw: null,
          promptName: 'p',
          promptVersion: 'v1',
          promptHash: null,
        },
        3,
        false,
      );
      expect(outcome).toBe('dead');
      expect((await store.getRecord('b/p1'))?.status).toBe('dead');
    });

    it('repairs records stranded in flight by a job that ended before they were released', async () => {
      await store.createJobIntent(newJob('j', [member('b/p1')]));
      await store.markJobSubmitted('j', 'batches/1', null);
      expect(await store.releaseStrandedRecords()).toBe(0);
      await store.updateJobState('j', 'expired');
      expect(await store.releaseStrandedRecords()).toBe(1);
      expect((await store.getRecord('b/p1'))?.status).toBe('ready');
    });

    it('remembers uploaded media files by content and type, replaces an entry, forgets it, and resets', async () => {
      const row = {
        sha256: 'a'.repeat(64),
        mimeType: 'image/png',
        sizeBytes: 123,
        remoteName: 'files/one',
        uri: 'https://x/v1beta/files/one',
        expiresAt: '2026-01-03T00:00:00.000Z',
        uploadedAt: '2026-01-01T00:00:00.000Z',
      };
      expect(await store.getMediaFile(row.sha256, 'image/png')).toBeNull();
      await store.saveMediaFile(row);
      expect(await store.getMediaFile(row.sha256, 'image/png')).toEqual(row);
      // Same bytes declared as another type are another entry.
      expect(await store.getMediaFile(row.sha256, 'image/jpeg')).toBeNull();
      const replaced = {
        ...row,
        remoteName: 'files/two',
        uri: 'https://x/v1beta/files/two',
        expiresAt: null,
      };
      await store.saveMediaFile(replaced);
      expect(await store.getMediaFile(row.sha256, 'image/png')).toEqual(replaced);
      await store.reset();
      expect(await store.getMediaFile(row.sha256, 'image/png')).toBeNull();
    });

    it('claims ready records for synchronous requests atomically, each in one request only', async () => {
      const claimed = await store.claimReady({ lane: 'flex', limit: 10, claimId: 'c1' });
      expect(claimed.map((r) => [r.id, r.lane, r.requestId])).toEqual([
        ['a/p1', 'flex', 'c1-0'],
        ['b/p1', 'flex', 'c1-1'],
      ]);
      expect(claimed[0]?.claimedAt).toEqual(expect.any(String));
      expect(await store.getRecord('a/p1')).toMatchObject({
        status: 'in_flight',
        jobId: null,
        lane: 'flex',
        requestId: 'c1-0',
      });
      // Nothing ready is left to a second claim, and a job cannot take a claimed record.
      expect(await store.claimReady({ lane: 'priority', limit: 10, claimId: 'c2' })).toEqual([]);
      await expect(store.createJobIntent(newJob('j', [member('a/p1')]))).rejects.toThrow(/not ready/);
      expect(await store.counts()).toMatchObject({ in_flight: 2, ready: 0 });
    });

    it('claims only the given records that are still ready, up to the limit', async () => {
      await store.claimReady({ lane: 'standard', limit: 1, claimId: 'x', recordIds: ['b/p1'] });
      const claimed = await store.claimReady({
        lane: 'flex',
        limit: 5,
        claimId: 'y',
        recordIds: ['b/p1', 'a/p2', 'a/p1', 'a/p1'],
      });
      // b/p1 is another request's, a/p2 is blocked: only a/p1 is taken, once.
      expect(claimed.map((r) => [r.id, r.requestId])).toEqual([['a/p1', 'y-0']]);
      expect(await store.claimReady({ lane: 'flex', limit: 0, claimId: 'z' })).toEqual([]);
    });

    it('completes a claimed record through its request only, once, logging its event once, billing no job', async () => {
      const [head] = await store.claimReady({ lane: 'flex', limit: 1, claimId: 'c' });
      expect(head?.id).toBe('a/p1');
      const event = new AttemptEventFactory({ now: () => Date.parse('2026-01-01T00:00:00Z') }).create({
        runId: null,
        lane: 'flex',
        model: 'gemini-2.5-flash',
        requestId: 'c-0',
        record: { id: 'a/p1', chainId: 'a', position: 1 },
        prompt: { name: 'p', version: 'v1', hash: 'h' },
        attempt: 0,
        usage: { inputTokens: 5, outputTokens: 7 },
        finishReason: 'STOP',
        output: { ok: true },
      });
      const success = { recordId: 'a/p1', jobId: null, requestId: 'c-0', inputTokens: 5, outputTokens: 7 };
      // Another request's result (a lost hedge, a replay of an older flight) changes nothing.
      expect(await store.completeRecords([{ ...success, requestId: 'other-0' }])).toBe(0);
      expect(await store.completeRecords([{ ...success, event }])).toBe(1);
      expect(await store.completeRecords([{ ...success, event }])).toBe(0);
      expect(await store.getRecord('a/p1')).toMatchObject({
        status: 'done',
        requestId: null,
        claimedAt: null,
        lane: 'flex',
      });
      expect((await store.getRecord('a/p2'))?.status).toBe('ready');
      const logged = await store.listEvents({ recordId: 'a/p1' });
      expect(logged.map((e) => [e.type, e.lane, e.requestId])).toEqual([['done', 'flex', 'c-0']]);
      expect(await store.listJobs()).toEqual([]);
    });

    it("logs a success's output once: referred to at the sink's location when it has one, copied when not", async () => {
      const claimed = await store.claimReady({ lane: 'flex', limit: 2, claimId: 'c' });
      expect(claimed.map((record) => record.id)).toEqual(['a/p1', 'b/p1']);
      const events = new AttemptEventFactory({ now: () => Date.parse('2026-01-01T00:00:00Z') });
      const success = (recordId: string, requestId: string) => ({
        ...done(recordId, requestId),
        event: events.create({
          runId: null,
          lane: 'flex',
          model: 'gemini-2.5-flash',
          requestId,
          record: { id: recordId, chainId: recordId.split('/')[0] ?? null, position: 1 },
          prompt: { name: 'p', version: 'v1', hash: 'h' },
          attempt: 0,
          usage: { inputTokens: 1, outputTokens: 1 },
          output: { page: recordId },
        }),
      });
      const location = { shard: 2, offset: 340, length: 95 };
      // A JSONL line holds a/p1's output; b/p1's is a file, addressed by id only.
      expect(
        await store.completeRecords([
          { ...success('a/p1', 'c-0'), location },
          { ...success('b/p1', 'c-1'), location: null },
        ]),
      ).toBe(2);
      const [kept] = await store.listEvents({ recordId: 'a/p1' });
      expect(kept?.outputLocation).toEqual(location);
      expect(kept?.output).toBeUndefined();
      const [copied] = await store.listEvents({ recordId: 'b/p1' });
      expect(copied?.output).toEqual({ page: 'b/p1' });
      expect(copied?.outputLocation).toBeUndefined();
    });

    it('fails a claimed record through its request: retried, then dead; stale for another request', async () => {
      const failure = (requestId: string) => ({
        recordId: 'b/p1',
        jobId: null,
        requestId,
        attempt: 0,
        cause: 'api_error',
        message: 'shed',
        raw: null,
        promptName: 'p',
        promptVersion: 'v1',
        promptHash: 'h',
      });
      await store.claimReady({ lane: 'flex', limit: 1, claimId: 'r1', recordIds: ['b/p1'] });
      expect(await store.failRecord(failure('elsewhere'), 1, true)).toBe('stale');
      expect(await store.failRecord(failure('r1-0'), 1, true)).toBe('retry');
      expect(await store.getRecord('b/p1')).toMatchObject({ status: 'ready', attempts: 1, requestId: null });
      expect(await store.failRecord(failure('r1-0'), 1, true)).toBe('stale');
      await store.claimReady({ lane: 'flex', limit: 1, claimId: 'r2', recordIds: ['b/p1'] });
      expect(await store.failRecord(failure('r2-0'), 1, true)).toBe('dead');
      const failures = await store.listFailures({ recordId: 'b/p1' });
      expect(failures.map((f) => [f.requestId, f.final])).toEqual([
        ['r1-0', false],
        ['r2-0', true],
      ]);
    });

    it('releases a claim without counting an attempt, and every claim left by a crashed process', async () => {
      const claimed = await store.claimReady({ lane: 'priority', limit: 2, claimId: 'k' });
      expect(await store.releaseClaim('a/p1', 'k-1')).toBe(false);
      expect(await store.releaseClaim('a/p1', 'k-0')).toBe(true);
      expect(await store.releaseClaim('a/p1', 'k-0')).toBe(false);
      expect(await store.getRecord('a/p1')).toMatchObject({ status: 'ready', attempts: 0, requestId: null });
      expect(claimed[1]?.id).toBe('b/p1');
      // The process holding b/p1's request died: the next start (holding the lease) releases it.
      await store.close();
      store = await backend.open();
      expect(await store.countStrandedRecords()).toBe(1);
      expect(await store.releaseStrandedRecords()).toBe(1);
      expect(await store.getRecord('b/p1')).toMatchObject({ status: 'ready', attempts: 0, requestId: null });
      // The crashed request's late result cannot apply any more.
      expect(
        await store.completeRecords([
          { recordId: 'b/p1', jobId: null, requestId: 'k-1', inputTokens: 1, outputTokens: 1 },
        ]),
      ).toBe(0);
    });
    it("keeps each text once: a record's own prompt found by its record, a shared text by its hash", async () => {
      const own = (recordId: string, text: string) => ({
        hash: 'h-same',
        recordId,
        kind: 'prompt' as const,
        body: JSON.stringify({ system: null, text }),
      });
      const group = { hash: 'h-group', recordId: null, kind: 'prompt' as const, body: '{"text":"group"}' };
      const config = { hash: 'h-config', kind: 'generation_config' as const, body: '{"temperature":0}' };
      // The same hash under two records is two texts; a repeat of a saved one changes nothing.
      await store.saveTexts([own('a/p1', 'one'), own('b/p1', 'two'), group, config]);
      await store.saveTexts([own('a/p1', 'changed'), { ...group, body: 'changed' }]);
      expect((await store.getText('h-same', 'a/p1'))?.body).toContain('one');
      expect((await store.getText('h-same', 'b/p1'))?.body).toContain('two');
      // A group's prompt is found from any member's event; a record's own prompt without its record by a scan.
      expect(await store.getText('h-group', 'a/p2')).toEqual({
        hash: 'h-group',
        kind: 'prompt',
        body: group.body,
      });
      expect((await store.getText('h-same'))?.body).toContain('one');
      expect(await store.getText('h-config')).toEqual({
        hash: 'h-config',
        kind: 'generation_config',
        body: config.body,
      });
      expect(await store.getText('h-missing', 'a/p1')).toBeNull();
      expect(await store.getText('h-same', 'a/p3')).toBeNull();
      await store.close();
      store = await backend.open();
      expect((await store.getText('h-same', 'b/p1'))?.body).toContain('two');
    });
    it('prunes the texts that no event left and no job membership refers to, keeping the others', async () => {
      const prompt = (hash: string, recordId: string | null = null) => ({
        hash,
        recordId,
        kind: 'prompt' as const,
        body: `{"text":"${hash}"}`,
      });
      await store.saveTexts([
        prompt('h-event', 'a/p1'),
        prompt('h-job'),
        prompt('h-old', 'b/p1'),
        prompt('h-orphan'),
        { hash: 'h-config', kind: 'generation_config', body: '{}' },
      ]);
      const logged = (at: string, promptHash: string, generationConfigHash: string | null) => ({
        ...emptyEvent('record', 'rejected', Date.parse(at), null, 'batch'),
        recordId: 'a/p1',
        promptHash,
        generationConfigHash,
      });
      await store.appendEvents([
        logged('2026-12-01T00:00:00Z', 'h-old', null),
        logged('3000-01-01T00:00:00Z', 'h-event', 'h-config'),
      ]);
      await store.createJobIntent(newJob('job1', [{ ...member('b/p1'), promptHash: 'h-job' }]));
      // Every text was saved before the cut-off; one event is older than it.
      expect(await store.pruneEvents('2999-01-01T00:00:00.000Z')).toEqual({ events: 1, texts: 2 });
      expect(await store.getText('h-event', 'a/p1')).not.toBeNull();
      expect(await store.getText('h-config')).not.toBeNull();
      expect(await store.getText('h-job')).not.toBeNull();
      expect(await store.getText('h-old', 'b/p1')).toBeNull();
      expect(await store.getText('h-orphan')).toBeNull();
    });
    it('keeps every column of an event as it was logged', async () => {
      // A different value in every column, so two columns swapped on the way in or out show.
      const event: InferenceEvent = {
        kind: 'attempt',
        type: 'retry',
        at: '2026-12-05T01:02:03.004Z',
        runId: 7,
        lane: 'flex',
        jobId: 'job-9',
        jobName: 'batches/nine',
        requestId: 'req-3',
        recordId: 'a/p1',
        chainId: 'a',
        position: 1,
        model: 'gemini-2.5-pro',
        promptName: 'page',
        promptVersion: 'v4',
        promptHash: 'prompt-hash',
        contextDigest: 'context-digest',
        generationConfigHash: 'config-hash',
        attempt: 2,
        cause: 'schema',
        message: 'did not match',
        raw: '{"raw":1}',
        stack: 'Error: at here',
        finishReason: 'MAX_TOKENS',
        inputTokens: 11,
        outputTokens: 13,
        thoughtsTokens: 17,
        costUsd: 0.019,
        latencyMs: 23,
        startedAt: '2026-12-05T01:00:00.000Z',
        finishedAt: '2026-12-05T01:00:00.023Z',
        requests: 0,
        output: { kept: 'here' },
      };
      const located: InferenceEvent = {
        ...event,
        type: 'done',
        output: undefined,
        outputLocation: { shard: 29, offset: 31, length: 37 },
      };
      await store.appendEvents([event, located]);
      const [first, second] = await store.listEvents({ recordId: 'a/p1' });
      expect(first).toEqual({ id: expect.any(Number), ...event });
      const { output: _none, ...withoutOutput } = located;
      expect(second).toEqual({ id: expect.any(Number), ...withoutOutput });
    });

    it("finds a record's events and jobs by the record, and the events of ids it has no record of", async () => {
      const logged = (recordId: string, message: string) => ({
        ...emptyEvent('record', 'rejected', Date.parse('2026-12-04T00:00:00Z'), null, 'batch'),
        recordId,
        message,
      });
      await store.appendEvents([
        logged('a/p1', 'first'),
        logged('ghost', 'rejected'),
        logged('a/p1', 'second'),
      ]);
      await store.appendEvents([logged('b/p1', 'other')]);
      expect((await store.listEvents({ recordId: 'a/p1' })).map((e) => e.message)).toEqual([
        'first',
        'second',
      ]);
      expect((await store.listEvents({ recordId: 'ghost' })).map((e) => e.message)).toEqual(['rejected']);
      expect(await store.listEvents({ recordId: 'nobody' })).toEqual([]);
      await store.createJobIntent(newJob('job1', [member('a/p1')]));
      expect((await store.recordAttempts('a/p1')).map((a) => a.jobId)).toEqual(['job1']);
      expect(await store.recordAttempts('b/p1')).toEqual([]);
    });

    it('names the records whose last attempt failed with a cause and kept its output, among those asked about', async () => {
      const attempt = (recordId: string, type: string, cause: string | null, output?: unknown) => ({
        ...emptyEvent('attempt', type, Date.parse('2026-12-04T00:00:00Z'), 1, 'standard'),
        recordId,
        cause,
        ...(output === undefined ? {} : { output }),
      });
      await store.appendEvents([
        // Kept, then a record transition (not an attempt): still kept.
        attempt('a/p1', 'retry', 'local_error', { courses: ['Latin'] }),
        {
          ...emptyEvent('record', 'redo', Date.parse('2026-12-04T00:00:00Z'), 1, 'standard'),
          recordId: 'a/p1',
        },
        // Kept, then superseded by a later attempt.
        attempt('a/p2', 'retry', 'local_error', { courses: [] }),
        attempt('a/p2', 'done', null, { courses: [] }),
        // A local failure that kept no answer; another cause that kept one.
        attempt('a/p3', 'retry', 'local_error'),
        attempt('b/p1', 'retry', 'max_tokens', { courses: [] }),
      ]);
      const all = ['a/p1', 'a/p2', 'a/p3', 'b/p1', 'nobody'];
      expect(await store.keptAnswerRecords(all, 'local_error')).toEqual(['a/p1']);
      expect(await store.keptAnswerRecords(['a/p2', 'a/p3'], 'local_error')).toEqual([]);
      expect(await store.keptAnswerRecords([], 'local_error')).toEqual([]);
    });

    it("keeps each exporter's watermark: started at the last event logged, only moved forward, kept across a reopen, cleared by a reset", async () => {
      const logged = (message: string) => ({
        ...emptyEvent('attempt', 'done', Date.parse('2026-12-04T00:00:00Z'), 1, 'batch'),
        message,
      });
      await store.appendEvents([logged('before'), logged('set up')]);
      const [, setUp] = await store.listEvents();
      // What was logged before the exporter was first set up is not its backlog.
      expect(await store.exportWatermark('otel.traces')).toBe(setUp?.id);
      await store.appendEvents([logged('after'), logged('later')]);
      const [after, later] = await store.listEvents({ afterId: setUp?.id ?? 0 });
      expect(await store.exportWatermark('otel.traces')).toBe(setUp?.id);
      // Each exporter has its own; a new one starts at the last event now.
      expect(await store.exportWatermark('otel.metrics')).toBe(later?.id);
      await store.advanceExportWatermark('otel.traces', later?.id ?? 0);
      await store.advanceExportWatermark('otel.traces', after?.id ?? 0);
      expect(await store.exportWatermark('otel.traces')).toBe(later?.id);
      await store.close();
      store = await backend.open();
      expect(await store.exportWatermark('otel.traces')).toBe(later?.id);
      await store.reset();
      await store.appendEvents([logged('anew')]);
      const [anew] = await store.listEvents();
      expect(await store.exportWatermark('otel.traces')).toBe(anew?.id);
    });

    it('reads the runs and their batch jobs as their traces show them: a run that stopped without finishing ends at its last event', async () => {
      const at = (minute: number) => `2026-12-04T00:0${minute}:00.000Z`;
      const jobEvent = (type: string, runId: number, jobId: string, minute: number) => ({
        ...emptyEvent('job', type, Date.parse(at(minute)), runId, 'batch'),
        jobId,
      });
      await store.createJobIntent(newJob('job1', [member('a/p1')]));
      expect(await store.firstRunStartedAt()).toBeNull();
      const killed = await store.startRun('run');
      const firstStart = await store.firstRunStartedAt();
      expect(firstStart).not.toBeNull();
      await store.appendEvents([
        jobEvent('submitted', killed, 'job1', 1),
        // A remote job that is none of the store's: no span.
        jobEvent('orphan-cancelled', killed, 'stray', 2),
        {
          ...emptyEvent('attempt', 'done', Date.parse(at(3)), killed, 'batch'),
          jobId: 'job1',
          recordId: 'a/p1',
        },
      ]);
      const finished = await store.startRun('run');
      await store.appendEvents([jobEvent('processed', finished, 'job1', 5)]);
      await store.finishRun(finished, {
        outcome: 'finished',
        counts: { done: 1 },
        jobsSubmitted: 0,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        thoughtsTokens: 0,
        costUsd: 0,
        lanes: [],
        error: null,
      });
      const [first, second] = await store.tracedRuns(0, finished, 10);
      // Where the history begins: the first run, however many follow.
      expect(await store.firstRunStartedAt()).toBe(firstStart);
      expect(first).toMatchObject({ id: killed, mode: 'run', outcome: null, counts: null, endedAt: at(3) });
      expect(second).toMatchObject({ id: finished, outcome: 'finished', counts: { done: 1 } });
      expect(await store.tracedRuns(killed, killed, 10)).toEqual([]);
      const jobs = await store.tracedJobs(killed);
      expect(
        jobs.map((traced) => [traced.job.id, traced.events.map((e) => e.type), traced.attempts, traced.done]),
      ).toEqual([['job1', ['submitted'], 1, 1]]);
      expect((await store.tracedJobs(finished)).map((traced) => traced.events.map((e) => e.at))).toEqual([
        [at(5)],
      ]);
      // A runs exporter starts at the last run started, an events exporter at the last event.
      expect(await store.exportWatermark('otel.runs', 'runs')).toBe(finished);
      expect(await store.exportWatermark('otel.traces')).toBeGreaterThan(finished);
      // A job-ends exporter just before the first event of the runs after the one given (their job
      // ends are its backlog), or at the last event when those runs logged none.
      const [submitted] = (await store.tracedJobs(killed)).flatMap((traced) => traced.events);
      expect(await store.exportWatermark('otel.jobs', { jobEndsAfterRun: killed - 1 })).toBe(
        (submitted?.id ?? 0) - 1,
      );
      const last = (await store.listEvents()).at(-1)?.id;
      expect(await store.exportWatermark('otel.jobs.later', { jobEndsAfterRun: finished })).toBe(last);
      // Once started it stays where it is.
      expect(await store.exportWatermark('otel.jobs', { jobEndsAfterRun: finished })).toBe(
        (submitted?.id ?? 0) - 1,
      );
    });

    it('pages through the attempts after an event, rejected records too, and nothing else: the attempts the totals count', async () => {
      const at = Date.parse('2026-12-04T00:00:00Z');
      const event = (kind: InferenceEvent['kind'], type: string, message: string) => ({
        ...emptyEvent(kind, type, at, 1, 'batch'),
        recordId: message,
        message,
      });
      await store.appendEvents([
        event('attempt', 'retry', 'a1'),
        event('job', 'running', 'job'),
        event('record', 'rejected', 'r1'),
        event('record', 'stale', 'not an attempt'),
        event('attempt', 'done', 'a2'),
        event('job', 'processed', 'job'),
        event('attempt', 'dead', 'a3'),
      ]);
      const all = await store.listEvents();
      const first = await store.attemptsAfter(0, 2);
      expect(first.map((e) => e.message)).toEqual(['a1', 'r1']);
      const rest = await store.attemptsAfter(first.at(-1)?.id ?? 0, 2);
      expect(rest.map((e) => e.message)).toEqual(['a2', 'a3']);
      expect(await store.attemptsAfter(rest.at(-1)?.id ?? 0, 2)).toEqual([]);
      // Whole events, as the log holds them.
      expect(rest[0]).toEqual(all.find((e) => e.message === 'a2'));
      const counted = (await store.attemptGroups()).reduce((sum, group) => sum + group.attempts, 0);
      expect(first.length + rest.length).toBe(counted);
    });

    it("keeps the attempts of all runs and each run's usage totalled as they are logged: the same as the log itself, after a prune and a reopen too", async () => {
      const day = (d: number) => Date.parse(`2026-12-0${d}T00:00:00Z`);
      const attempt = (
        at: number,
        runId: number,
        recordId: string,
        usage: number,
        cause: string | null,
        grouped?: { job: string; requests: number },
      ) => ({
        ...new AttemptEventFactory({ now: () => at }).create({
          runId,
          lane: 'batch',
          model: 'gemini-2.5-flash',
          ...(grouped ? { job: { id: grouped.job, name: null }, requests: grouped.requests } : {}),
          record: { id: recordId, chainId: recordId[0] ?? null, position: 1 },
          prompt: { name: 'p', version: at < day(3) ? 'v1' : 'v2', hash: 'h' },
          attempt: 0,
          startedAt: at,
          finishedAt: at + usage,
          usage: { inputTokens: usage, outputTokens: 2 * usage },
          ...(cause ? { failure: { cause, message: 'no', raw: null } } : {}),
        }),
        ...(cause ? { type: 'retry' } : {}),
      });
      const rejected = (at: number, recordId: string) => ({
        ...emptyEvent('record', 'rejected', at, 1, 'batch'),
        recordId,
        model: 'gemini-2.5-flash',
        cause: 'invalid_record',
      });
      // A record retried twice in one call and once more in the next, ids the store has no record
      // of rejected in two calls, and a job event, which is no attempt.
      await store.appendEvents([
        attempt(day(1), 1, 'a/p1', 10, null),
        attempt(day(1), 1, 'b/p1', 5, 'timeout'),
        attempt(day(1), 1, 'b/p1', 6, 'timeout'),
        rejected(day(1), 'ghost'),
        { ...emptyEvent('job', 'submitted', day(1), 1, 'batch'), jobId: 'j1' },
      ]);
      await store.appendEvents([
        attempt(day(2), 2, 'b/p1', 7, 'timeout'),
        attempt(day(2), 2, 'b/p1', 8, null),
        rejected(day(2), 'ghost'),
        rejected(day(2), 'ghost2'),
      ]);
      // Run 3: two records alone, three answered by one grouped request (records_per_request: 3),
      // whose first record's attempt counts the request.
      await store.appendEvents([
        attempt(day(3), 3, 'a/p2', 1, null),
        attempt(day(3), 3, 'a/p1', 3, null),
        attempt(day(3), 3, 'c/p1', 4, null, { job: 'j3', requests: 1 }),
        attempt(day(3), 3, 'c/p2', 4, null, { job: 'j3', requests: 0 }),
        attempt(day(3), 3, 'c/p3', 4, null, { job: 'j3', requests: 0 }),
      ]);

      /** What the log itself says (of all runs, or of one), grouped here: the totals must agree with it. */
      const fromLog = async (runId?: number) => {
        const groups = new Map<
          string,
          {
            attempts: number;
            requests: number;
            records: Set<string>;
            inputTokens: number;
            outputTokens: number;
            costUsd: number;
            latencyMs: number;
          }
        >();
        for (const e of await store.listEvents(runId === undefined ? {} : { runId })) {
          if (!(e.kind === 'attempt' || (e.kind === 'record' && e.type === 'rejected'))) continue;
          const key = [e.model, e.lane, e.promptName, e.promptVersion, e.type, e.cause].join('|');
          const group = groups.get(key) ?? {
            attempts: 0,
            requests: 0,
            records: new Set<string>(),
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            latencyMs: 0,
          };
          group.attempts++;
          if (e.kind === 'attempt') group.requests += e.requests ?? 1;
          if (e.recordId) group.records.add(e.recordId);
          group.inputTokens += e.inputTokens;
          group.outputTokens += e.outputTokens;
          group.costUsd += e.costUsd ?? 0;
          group.latencyMs += e.latencyMs ?? 0;
          groups.set(key, group);
        }
        return new Map(
          [...groups].map(([key, g]) => [
            key,
            { ...g, records: g.records.size, costUsd: Number(g.costUsd.toFixed(9)) },
          ]),
        );
      };
      /** A run's usage as its logged attempts add up. */
      const runFromLog = async (runId: number) => {
        const attempts = (await store.listEvents({ runId })).filter((e) => e.kind === 'attempt');
        const sum = (pick: (e: (typeof attempts)[number]) => number) =>
          attempts.reduce((t, e) => t + pick(e), 0);
        return {
          requests: sum((e) => e.requests ?? 1),
          inputTokens: sum((e) => e.inputTokens),
          outputTokens: sum((e) => e.outputTokens),
          thoughtsTokens: sum((e) => e.thoughtsTokens),
          costUsd: expect.closeTo(
            sum((e) => e.costUsd ?? 0),
            12,
          ),
          lanes: [...new Set(attempts.map((e) => e.lane))].sort(),
        };
      };
      /** A run's attempts per batch job as its logged attempts add up, slowest first. */
      const jobsFromLog = async (runId: number) => {
        const jobs = new Map<string, JobAttempts>();
        for (const e of await store.listEvents({ runId, kind: 'attempt' })) {
          if (e.jobId === null) continue;
          const job = jobs.get(e.jobId) ?? {
            jobId: e.jobId,
            jobName: null,
            lane: e.lane,
            attempts: 0,
            requests: 0,
            done: 0,
            latencyMs: 0,
            costUsd: 0,
            startedAt: null,
            finishedAt: null,
          };
          job.attempts++;
          job.requests += e.requests ?? 1;
          if (e.type === 'done') job.done++;
          job.latencyMs = Math.max(job.latencyMs, e.latencyMs ?? 0);
          job.costUsd += e.costUsd ?? 0;
          if (e.jobName !== null && (job.jobName === null || e.jobName > job.jobName))
            job.jobName = e.jobName;
          if (e.startedAt !== null && (job.startedAt === null || e.startedAt < job.startedAt))
            job.startedAt = e.startedAt;
          if (e.finishedAt !== null && (job.finishedAt === null || e.finishedAt > job.finishedAt))
            job.finishedAt = e.finishedAt;
          jobs.set(e.jobId, job);
        }
        return [...jobs.values()]
          .map((job) => ({ ...job, costUsd: expect.closeTo(job.costUsd, 12) as number }))
          .sort((a, b) => b.latencyMs - a.latencyMs || (a.jobId < b.jobId ? -1 : 1));
      };
      const totals = async (runId?: number) =>
        new Map(
          (await store.attemptGroups(runId)).map((g) => [
            [g.model, g.lane, g.promptName, g.promptVersion, g.type, g.cause].join('|'),
            {
              attempts: g.attempts,
              requests: g.requests,
              records: g.records,
              inputTokens: g.inputTokens,
              outputTokens: g.outputTokens,
              costUsd: Number(g.costUsd.toFixed(9)),
              latencyMs: g.latencyMs,
            },
          ]),
        );
      expect(await totals()).toEqual(await fromLog());
      for (const runId of [1, 2, 3]) {
        expect(await store.runUsage(runId)).toEqual(await runFromLog(runId));
        expect(await totals(runId)).toEqual(await fromLog(runId));
        expect(await store.jobAttempts(runId)).toEqual(await jobsFromLog(runId));
      }
      expect(await store.runUsage(1)).toMatchObject({ requests: 3, inputTokens: 21, lanes: ['batch'] });
      expect(await store.runUsage(3)).toMatchObject({ requests: 3, inputTokens: 16 });
      expect((await totals()).get('gemini-2.5-flash|batch|p|v2|done|')).toMatchObject({
        attempts: 5,
        requests: 3,
        records: 5,
      });
      expect(await store.attemptGroups(3)).toEqual([expect.objectContaining({ attempts: 5, requests: 3 })]);
      expect(await store.jobAttempts(3)).toEqual([
        expect.objectContaining({ jobId: 'j3', attempts: 3, requests: 1, done: 3 }),
      ]);
      expect((await totals()).get('gemini-2.5-flash|batch|p|v1|retry|timeout')).toMatchObject({
        attempts: 3,
        records: 1,
      });
      expect((await totals()).get('gemini-2.5-flash|batch|||rejected|invalid_record')).toMatchObject({
        attempts: 3,
        requests: 0,
        records: 2,
      });
      expect((await totals()).get('gemini-2.5-flash|batch|p|v1|done|')).toMatchObject({
        attempts: 2,
        records: 2,
        inputTokens: 18,
      });

      expect((await store.pruneEvents(new Date(day(2)).toISOString())).events).toBe(5);
      expect(await totals()).toEqual(await fromLog());
      for (const runId of [1, 2, 3]) {
        expect(await store.runUsage(runId)).toEqual(await runFromLog(runId));
        expect(await totals(runId)).toEqual(await fromLog(runId));
        expect(await store.jobAttempts(runId)).toEqual(await jobsFromLog(runId));
      }
      expect((await store.runUsage(1)).requests).toBe(0);
      expect((await totals()).get('gemini-2.5-flash|batch|p|v1|retry|timeout')).toMatchObject({
        attempts: 1,
        records: 1,
      });

      await store.close();
      store = await backend.open();
      expect(await totals()).toEqual(await fromLog());
      expect(await store.runUsage(2)).toEqual(await runFromLog(2));
      expect((await totals()).size).toBe(4);
    });

    it("keeps each run's attempts per batch job as they are logged (its report's slowest jobs), across calls, after a prune and a reopen too", async () => {
      const at = (d: number, hour: number) =>
        Date.parse(`2026-12-0${d}T${String(hour).padStart(2, '0')}:00:00Z`);
      const attempt = (
        when: number,
        runId: number,
        recordId: string,
        job: { id: string; name: string | null } | null,
        ms: number,
        failed = false,
      ) => ({
        ...new AttemptEventFactory({ now: () => when }).create({
          runId,
          lane: 'batch',
          model: 'gemini-2.5-flash',
          job,
          record: { id: recordId, chainId: recordId[0] ?? null, position: 1 },
          prompt: { name: 'p', version: 'v1', hash: 'h' },
          attempt: 0,
          startedAt: when,
          finishedAt: when + ms,
          usage: { inputTokens: 10, outputTokens: 20 },
          ...(failed ? { failure: { cause: 'timeout', message: 'no', raw: null } } : {}),
        }),
        ...(failed ? { type: 'retry' } : {}),
      });
      // Job j1 of run 1 is logged over two calls (its name known only in the second), a synchronous
      // answer has no job, run 2 has a slower job of its own.
      await store.appendEvents([
        attempt(at(1, 1), 1, 'a/p1', { id: 'j1', name: null }, 4_000),
        attempt(at(1, 1), 1, 'a/p2', { id: 'j1', name: null }, 4_000, true),
        attempt(at(1, 2), 1, 'z/p1', null, 900),
      ]);
      await store.appendEvents([
        attempt(at(1, 0), 1, 'a/p3', { id: 'j1', name: 'batches/j1' }, 6_000),
        attempt(at(1, 3), 1, 'b/p1', { id: 'j2', name: 'batches/j2' }, 2_000),
      ]);
      await store.appendEvents([attempt(at(2, 1), 2, 'a/p2', { id: 'j3', name: 'batches/j3' }, 9_000)]);
      const j1 = {
        jobId: 'j1',
        jobName: 'batches/j1',
        lane: 'batch',
        attempts: 3,
        requests: 3,
        done: 2,
        latencyMs: 6_000,
        startedAt: new Date(at(1, 0)).toISOString(),
        finishedAt: new Date(at(1, 1) + 4_000).toISOString(),
      };
      expect(await store.jobAttempts(1)).toEqual([
        expect.objectContaining(j1),
        expect.objectContaining({ jobId: 'j2', attempts: 1, done: 1, latencyMs: 2_000 }),
      ]);
      expect(await store.jobAttempts(1, 1)).toEqual([expect.objectContaining({ jobId: 'j1' })]);
      expect(await store.jobAttempts(2)).toEqual([
        expect.objectContaining({ jobId: 'j3', latencyMs: 9_000 }),
      ]);
      expect(await store.jobAttempts(3)).toEqual([]);

      // A prune of day 1 leaves run 1 with nothing; a reopened store reads what was kept.
      expect((await store.pruneEvents(new Date(at(2, 0)).toISOString())).events).toBe(5);
      expect(await store.jobAttempts(1)).toEqual([]);
      await store.close();
      store = await backend.open();
      expect(await store.jobAttempts(2)).toEqual([
        expect.objectContaining({ jobId: 'j3', jobName: 'batches/j3', attempts: 1, requests: 1 }),
      ]);
      expect(await store.attemptGroups(1)).toEqual([]);
      expect(await store.attemptGroups(2)).toEqual([
        expect.objectContaining({ type: 'done', attempts: 1, records: 1, inputTokens: 10 }),
      ]);
    });

    it("reads each lane's latest latencies, oldest first: a processed job's turnaround, a synchronous lane's answers", async () => {
      const factory = new AttemptEventFactory({ now: () => Date.parse('2026-12-04T00:00:00Z') });
      const attempt = (lane: 'batch' | 'flex' | 'standard', ms: number, job: string | null, failed = false) =>
        factory.create({
          runId: null,
          lane,
          model: 'gemini-2.5-flash',
          job: job === null ? null : { id: job, name: `batches/${job}` },
          requestId: job === null ? `r-${ms}` : 'a/p1',
          record: { id: 'a/p1', chainId: 'a', position: 1 },
          prompt: { name: 'p', version: 'v1', hash: 'h' },
          attempt: 0,
          startedAt: 1_000_000,
          finishedAt: 1_000_000 + ms,
          usage: { inputTokens: 1, outputTokens: 1 },
          ...(failed ? { failure: { cause: 'timeout', message: 'slow', raw: null } } : {}),
        });
      // Three jobs in order; the last is still pending, so its (odd) events say nothing yet.
      for (const [job, recordId] of [
        ['job1', 'a/p1'],
        ['job2', 'b/p1'],
      ] as const) {
        await store.createJobIntent(newJob(job, [member(recordId)]));
        await store.updateJobState(job, 'processed');
      }
      await store.releaseJobRecords('job2', false);
      await store.createJobIntent(newJob('job3', [member('b/p1')]));
      await store.appendEvents([
        attempt('batch', 1000, 'job1'),
        attempt('batch', 1000, 'job1', true),
        attempt('flex', 10, null),
        attempt('batch', 2000, 'job2'),
        attempt('flex', 99, null, true),
        attempt('flex', 20, null),
        attempt('standard', 5, null),
        attempt('batch', 3000, 'job3'),
        attempt('flex', 30, null),
      ]);
      expect(await store.recentLatencies('batch', 10)).toEqual([1000, 2000]);
      expect(await store.recentLatencies('batch', 1)).toEqual([2000]);
      expect(await store.recentLatencies('flex', 10)).toEqual([10, 20, 30]);
      expect(await store.recentLatencies('flex', 2)).toEqual([20, 30]);
      expect(await store.recentLatencies('standard', 10)).toEqual([5]);
      expect(await store.recentLatencies('priority', 10)).toEqual([]);
    });
  });
}
