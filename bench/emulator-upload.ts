// Files API throughput through the official SDK: a generated file is uploaded to an in-process
// emulator (resumable upload, 8 MB chunks) and downloaded back. Prints MB/s both ways against a local
// stream copy of the same file, and the peak RSS growth of this process (SDK + emulator) vs file size:
// a streaming emulator keeps it far below the file size.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { GoogleGenAI } from '@google/genai';
import { startEmulator } from '../src/emulator/index.js';
import {
  megabytes,
  megabytesPerSecond,
  milliseconds,
  printFigure,
  sizeFromEnv,
  times,
  machineConditions,
} from './figures.js';
import { MemoryPeak, type MemoryGrowth } from './memory-peak.js';
import { randomInteger, seededRandom } from '../src/emulator/seeded-random.js';

const SEED = 11;
const BLOCK_BYTES = 1 << 20;

interface Transfer {
  ms: number;
  memory: MemoryGrowth;
}

/** Runs the benchmark; BENCH_UPLOAD_MB scales the file (default 200 MB). */
export async function benchEmulatorUpload(): Promise<void> {
  const sizeMb = sizeFromEnv('BENCH_UPLOAD_MB', 200);
  const dir = await mkdtemp(join(tmpdir(), 'wb-bench-upload-'));
  const emulator = await startEmulator({ seed: SEED, storageDir: join(dir, 'emulator') });
  try {
    const source = join(dir, 'input.jsonl');
    const bytes = await writeInput(source, sizeMb);
    const ai = new GoogleGenAI({
      apiKey: 'bench-key',
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: emulator.url, timeout: 600_000 },
    });
    const copy = await transfer(() =>
      pipeline(createReadStream(source), createWriteStream(join(dir, 'copy.jsonl'))),
    );
    let name = '';
    const upload = await transfer(async () => {
      const file = await ai.files.upload({
        file: source,
        config: { mimeType: 'application/jsonl', displayName: 'bench-input' },
      });
      if (!file.name) throw new Error('The emulator returned an uploaded file without a name.');
      name = file.name;
    });
    const downloaded = join(dir, 'downloaded.jsonl');
    const download = await transfer(() => ai.files.download({ file: name, downloadPath: downloaded }));
    const intact =
      (await stat(downloaded)).size === bytes && (await sha256(downloaded)) === (await sha256(source));

    console.log(
      `emulator-upload: ${megabytes(bytes)} file through @google/genai files.upload / files.download (seed ${SEED})`,
    );
    printFigure('machine', machineConditions());
    report('local stream copy (baseline)', copy, bytes);
    report('SDK upload to emulator', upload, bytes);
    report('SDK download from emulator', download, bytes);
    printFigure('upload vs local copy', times(upload.ms, copy.ms));
    printFigure('download vs local copy', times(download.ms, copy.ms));
    printFigure(
      'round trip intact',
      intact ? 'yes (size and sha256 match)' : 'NO: the downloaded file differs',
    );
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function transfer(work: () => Promise<unknown>): Promise<Transfer> {
  const memory = new MemoryPeak();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  return { ms, memory: memory.stop() };
}

function report(label: string, result: Transfer, bytes: number): void {
  printFigure(
    label,
    `${milliseconds(result.ms)}  ${megabytesPerSecond(bytes, result.ms)}  RSS peak +${megabytes(result.memory.rss)} ` +
      `(${times(result.memory.rss, bytes)} file), heap peak +${megabytes(result.memory.heap)}, external peak +${megabytes(result.memory.external)}`,
  );
}

/** A JSONL file of batch request lines: one seeded 1 MiB block of lines, repeated with its block number. */
async function writeInput(path: string, sizeMb: number): Promise<number> {
  const random = seededRandom(SEED, 'bench');
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < BLOCK_BYTES - 400; index++) {
    const text = 'Transcribe this page of the catalog. '.repeat(randomInteger(random, 1, 6));
    const line = `${JSON.stringify({ key: `page_${index}`, request: { contents: [{ role: 'user', parts: [{ text }] }] } })}\n`;
    lines.push(line);
    length += Buffer.byteLength(line);
  }
  const block = lines.join('');
  const out = createWriteStream(path);
  let bytes = 0;
  for (let index = 0; index < sizeMb; index++) {
    const chunk = `${block}{"key":"block_${index}"}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
