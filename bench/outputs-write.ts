// The cost of durable outputs: N small documents written with OutputStore.write (temp file, fsync,
// rename, folder fsync) against plain fs.writeFile (no fsync) and writeFile + fsync of the file only,
// the same documents to the same layout. Prints writes/s and the ratios.
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OutputStore, type OutputDocument } from '../src/outputs/index.js';
import {
  microsecondsEach,
  milliseconds,
  perSecond,
  printFigure,
  sizeFromEnv,
  times,
  machineConditions,
} from './figures.js';
import { randomInteger, seededRandom } from '../src/emulator/seeded-random.js';

const SEED = 7;
/** Pages per folder, as a book of a catalog workload has. */
const PAGES_PER_BOOK = 20;

/** Runs the benchmark; BENCH_OUTPUTS scales the number of documents (default 2,000). */
export async function benchOutputsWrite(): Promise<void> {
  const count = sizeFromEnv('BENCH_OUTPUTS', 2_000);
  const documents = makeDocuments(count);
  const bytes = documents.reduce((sum, [, document]) => sum + Buffer.byteLength(serialise(document)), 0);
  const dir = await mkdtemp(join(tmpdir(), 'wb-bench-outputs-'));
  try {
    const plain = await timed(() => writePlain(join(dir, 'plain'), documents, false));
    const fsynced = await timed(() => writePlain(join(dir, 'fsync'), documents, true));
    const store = new OutputStore(join(dir, 'atomic'), { random: counter() });
    const atomic = await timed(async () => {
      for (const [id, document] of documents) await store.write(id, document);
    });
    console.log(
      `outputs-write: ${count.toLocaleString('en-US')} documents, ${Math.round(bytes / count)} bytes each on average, ${count / PAGES_PER_BOOK} folders (seed ${SEED})`,
    );
    printFigure('machine', machineConditions());
    printFigure('fs.writeFile (no fsync)', rate(plain, count));
    printFigure('writeFile + fsync (file only)', rate(fsynced, count));
    printFigure('OutputStore.write (atomic)', rate(atomic, count));
    printFigure('atomic vs plain writeFile', times(atomic, plain));
    printFigure('atomic vs writeFile + fsync', times(atomic, fsynced));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rate(ms: number, count: number): string {
  return `${milliseconds(ms)}  ${perSecond(count, ms, 'writes')}  ${microsecondsEach(ms, count)}/write`;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The baselines write the same bytes to the same paths as OutputStore, minus its temp file and renames. */
async function writePlain(
  root: string,
  documents: Array<[string, OutputDocument]>,
  sync: boolean,
): Promise<void> {
  let folder = '';
  for (const [id, document] of documents) {
    const path = join(root, `${id}.json`);
    if (dirname(path) !== folder) {
      folder = dirname(path);
      await mkdir(folder, { recursive: true });
    }
    if (!sync) {
      await writeFile(path, serialise(document), 'utf8');
      continue;
    }
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(serialise(document), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** As OutputStore serialises a document. */
function serialise(document: OutputDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Temp-name suffixes without crypto, so the atomic pass pays only for what OutputStore does itself. */
function counter(): () => string {
  let next = 0;
  return () => (next++).toString(16).padStart(12, '0');
}

function makeDocuments(count: number): Array<[string, OutputDocument]> {
  const random = seededRandom(SEED, 'bench');
  const documents: Array<[string, OutputDocument]> = [];
  for (let index = 0; index < count; index++) {
    const book = Math.floor(index / PAGES_PER_BOOK) + 1;
    const page = (index % PAGES_PER_BOOK) + 1;
    const id = `ST/school${book}/1900/page_${page}`;
    const courses = Array.from(
      { length: randomInteger(random, 2, 6) },
      (_, course) => `LAT ${100 + course}: Latin prose, ${randomInteger(random, 1, 4)} credits`,
    );
    documents.push([
      id,
      {
        id,
        output: { courses, carry_over: `continued from page ${page}` },
        meta: {
          prompt: { name: 'page', version: 'v1', hash: (index * 2654435761).toString(16).padStart(16, '0') },
          model: 'gemini-2.5-flash',
          job: `job-${Math.floor(index / 250)}`,
          attempt: 1,
          usage: {
            inputTokens: randomInteger(random, 300, 600),
            outputTokens: randomInteger(random, 50, 200),
          },
          completedAt: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
        },
      },
    ]);
  }
  return documents;
}
