import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { makeFolder } from '../../make-folder.js';
import { dirname } from 'node:path';
import { replaceFile } from '../durable-files.js';
import type { OutputLocation, OutputSink } from '../sink.js';
import type { AssemblyState, AssemblyStateStore } from './assembly-state.js';
import { chainDocumentPath } from './document-path.js';
import { renderJsonl, renderMarkdown, type AssemblyEntry } from './render.js';

/** `outputs.assemble` as the assembler needs it (paths absolute). */
export interface AssemblySettings {
  format: 'markdown' | 'jsonl';
  path: string;
  field?: string;
  separator: string;
}

/** A record as the store lists it: enough to place it in its chain and read its output. */
export interface ChainMember {
  id: string;
  chainId: string;
  position: number;
  status: string;
  output?: OutputLocation | null;
}

/** The store's side: a record's chain, and a chain's records in position order (paged). */
export interface ChainRecordSource {
  getRecord(id: string): Promise<ChainMember | null>;
  listRecords(filter: {
    chainId?: string;
    order: 'chain';
    afterChain?: { chainId: string; position: number };
    limit: number;
  }): Promise<ChainMember[]>;
}

const PAGE = 500;

/** Bumped when rendering changes, so every document is written again by the new version. */
const RENDERING = 1;

/**
 * Keeps one document per chain, its records' outputs in position order, read through the output
 * sink. Records that completed are noted as they are reported; `flush` rebuilds only the chains they
 * belong to. Each document is replaced atomically (temp file, fsync, rename), so a crash mid-assembly
 * leaves the previous document whole. With a state store, every document written saves the state of
 * its chain's records it was written from, and `catchUp` at the start of a run rebuilds only the
 * chains whose records changed since (completions a crash kept from being assembled, records sent
 * again, a changed source), without reading the other chains' outputs; `rebuildAll` rebuilds every
 * chain. Work is queued one call after another, never two at once.
 */
export class ChainAssembler {
  private readonly dirtyRecords = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  /**
   * Documents written, chains whose document was already up to date (read and compared), and chains
   * skipped because their records had not changed since their document was written.
   */
  readonly stats = { written: 0, unchanged: 0, skipped: 0 };
  /** Mixed into every saved state: a document written under other settings is stale. */
  private readonly salt: string;

  constructor(
    private readonly settings: AssemblySettings,
    private readonly records: ChainRecordSource,
    private readonly outputs: Pick<OutputSink, 'read'>,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly states?: AssemblyStateStore,
  ) {
    const { format, path, field, separator } = settings;
    this.salt = JSON.stringify([RENDERING, format, path, field ?? null, separator]);
  }

  /** A record's outcome changed (done, or dead): its chain's document is rebuilt at the next flush. */
  note(recordId: string): void {
    this.dirtyRecords.add(recordId);
  }

  /** Rebuilds the documents of the chains noted since the last flush, after any queued work. */
  flush(): Promise<void> {
    return this.enqueue(async () => {
      if (this.dirtyRecords.size === 0) return;
      const ids = [...this.dirtyRecords];
      this.dirtyRecords.clear();
      const chains = new Set<string>();
      for (const id of ids) {
        const record = await this.records.getRecord(id);
        if (record) chains.add(record.chainId);
      }
      if (!this.states) {
        for (const chainId of chains) await this.assembleChain(chainId);
        return;
      }
      const chainIds = [...chains];
      for (let from = 0; from < chainIds.length; from += PAGE) {
        const page = chainIds.slice(from, from + PAGE);
        await this.assembleChanged(
          await this.states.assemblyStates({ salt: this.salt, chainIds: page, limit: page.length }),
        );
      }
    });
  }

  /**
   * Rebuilds the documents of the chains whose records changed since their document was written,
   * and of unchanged chains whose document is gone (so every chain's when the folder is missing;
   * every chain's without a state store): what a run does at its start.
   */
  catchUp(): Promise<void> {
    const states = this.states;
    if (!states) return this.rebuildAll();
    return this.enqueue(async () => {
      let afterChain: string | undefined;
      for (;;) {
        const page = await states.assemblyStates({
          salt: this.salt,
          limit: PAGE,
          ...(afterChain !== undefined ? { afterChain } : {}),
        });
        await this.assembleChanged(page);
        const last = page.at(-1);
        if (page.length < PAGE || !last) break;
        afterChain = last.chainId;
      }
    });
  }

  /**
   * Assembles the chains whose state changed, then saves the states. Each state was read before the
   * chain's records (in assembleChain): a record completed in between is in the document but not in
   * the state saved, so the next start rebuilds that chain once more; the state saved is never newer
   * than its document. A crash before the save leaves the old states: those chains are rebuilt again.
   */
  private async assembleChanged(states: readonly AssemblyState[]): Promise<void> {
    const written: AssemblyState[] = [];
    for (const state of states) {
      // An unchanged chain whose document is gone (deleted by hand, lost) is written again.
      if (!state.changed && existsSync(this.documentPath(state.chainId))) {
        this.stats.skipped++;
        continue;
      }
      await this.assembleChain(state.chainId);
      written.push(state);
    }
    await this.states?.saveAssemblyStates(written);
  }

  /** Rebuilds every chain that has at least one done record (a pass over all records). */
  rebuildAll(): Promise<void> {
    return this.enqueue(async () => {
      let after: { chainId: string; position: number } | undefined;
      let current: ChainMember[] = [];
      for (;;) {
        const page = await this.records.listRecords({
          order: 'chain',
          limit: PAGE,
          ...(after ? { afterChain: after } : {}),
        });
        for (const record of page) {
          if (current.length > 0 && current[0]?.chainId !== record.chainId) {
            await this.writeChain(current);
            current = [];
          }
          current.push(record);
        }
        const last = page.at(-1);
        if (page.length < PAGE || !last) break;
        after = { chainId: last.chainId, position: last.position };
      }
      if (current.length > 0) await this.writeChain(current);
    });
  }

  /** Resolves once every queued flush and rebuild has finished. */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    // A failed assembly is reported and does not stop later ones: outputs are safe in the sink and
    // the next run's rebuildAll brings the documents up to date.
    this.queue = this.queue.then(work).catch((error: unknown) => this.onError(error));
    return this.queue;
  }

  private async assembleChain(chainId: string): Promise<void> {
    const members: ChainMember[] = [];
    let after: { chainId: string; position: number } | undefined;
    for (;;) {
      const page = await this.records.listRecords({
        chainId,
        order: 'chain',
        limit: PAGE,
        ...(after ? { afterChain: after } : {}),
      });
      members.push(...page);
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      after = { chainId, position: last.position };
    }
    await this.writeChain(members);
  }

  private documentPath(chainId: string): string {
    return chainDocumentPath(
      this.settings.path,
      chainId,
      this.settings.format === 'markdown' ? '.md' : '.jsonl',
    );
  }

  /** Writes the document of one chain's records (in position order) unless nothing of it is done or it is unchanged. */
  private async writeChain(members: readonly ChainMember[]): Promise<void> {
    const chainId = members[0]?.chainId;
    if (chainId === undefined || !members.some((member) => member.status === 'done')) return;
    const entries: AssemblyEntry[] = [];
    for (const member of members) {
      const entry: AssemblyEntry = { id: member.id, position: member.position, status: member.status };
      if (member.status === 'done') {
        const document = await this.outputs.read(member.id, member.output ?? null);
        // Done in the store but its output is gone: shown as a gap; start-up reconciliation requeues it.
        if (document) entry.output = document.output;
        else entry.status = 'output missing';
      }
      entries.push(entry);
    }
    const markdown = this.settings.format === 'markdown';
    const text = markdown
      ? renderMarkdown(entries, {
          separator: this.settings.separator,
          ...(this.settings.field !== undefined ? { field: this.settings.field } : {}),
        })
      : renderJsonl(entries);
    const path = this.documentPath(chainId);
    const before = await readFile(path, 'utf8').catch(() => null);
    if (before === text) {
      this.stats.unchanged++;
      return;
    }
    await makeFolder(dirname(path));
    await replaceFile(path, text);
    this.stats.written++;
  }
}
