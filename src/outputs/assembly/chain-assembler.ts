import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { replaceFile } from '../durable-files.js';
import type { OutputLocation, OutputSink } from '../sink.js';
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

/**
 * Keeps one document per chain, its records' outputs in position order, read through the output
 * sink. Records that completed are noted as they are reported; `flush` rebuilds only the chains they
 * belong to. Each document is replaced atomically (temp file, fsync, rename), so a crash mid-assembly
 * leaves the previous document whole; `rebuildAll` at the start of a run catches up with completions
 * a crash kept from being assembled. Work is queued one call after another, never two at once.
 */
export class ChainAssembler {
  private readonly dirtyRecords = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  /** Documents written and chains whose document was already up to date, since this assembler started. */
  readonly stats = { written: 0, unchanged: 0 };

  constructor(
    private readonly settings: AssemblySettings,
    private readonly records: ChainRecordSource,
    private readonly outputs: Pick<OutputSink, 'read'>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

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
      for (const chainId of chains) await this.assembleChain(chainId);
    });
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
    const path = chainDocumentPath(this.settings.path, chainId, markdown ? '.md' : '.jsonl');
    const before = await readFile(path, 'utf8').catch(() => null);
    if (before === text) {
      this.stats.unchanged++;
      return;
    }
    await mkdir(dirname(path), { recursive: true });
    await replaceFile(path, text);
    this.stats.written++;
  }
}
