import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, openSync, readFileSync, closeSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorOptionsFrom } from '../../src/cli/commands/emulator.js';
import { BIN, runCli, startCli } from '../fixtures/cli.js';
import { tempDir } from './harness.js';

describe('wavebatch emulator (CLI, child process)', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('documents every option with examples', async () => {
    const { code, stdout } = await runCli(['emulator', '--help']);
    expect(code).toBe(0);
    for (const option of [
      '--host',
      '--port',
      '--time-scale',
      '--turnaround',
      '--seed',
      '--file-ttl',
      '--file-processing',
      '--file-processing-types',
      '--job-expiry',
      '--max-concurrent-jobs',
      '--max-enqueued-tokens',
      '--rpm',
      '--tpm',
      '--rpd',
      '--latency',
      '--shed-rate',
      '--tier-limit',
      '--faults',
      '--fault-rate',
      '--http-fault',
      '--refuse-mime',
      '--file-storage',
      '--model',
      '--api-key',
      '--storage-dir',
    ]) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain('Examples:');
  });

  it('rejects bad values naming the option, with exit code 2', async () => {
    const port = await runCli(['emulator', '--port', 'abc']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port');
    expect(port.stderr).toContain('abc');
    const faults = await runCli(['emulator', '--faults', '{"jobSequence":["explode"]}']);
    expect(faults.code).toBe(2);
    expect(faults.stderr).toContain('jobSequence');
    // The option's code alone: the fault plan's error is passed on as its message.
    expect(faults.stderr).toMatch(/^error \[INPUT_EMULATOR_OPTION\]: Invalid fault plan in --faults: /m);
    const types = await runCli(['emulator', '--file-processing-types', 'audio']);
    expect(types.code).toBe(2);
    expect(types.stderr).toContain('--file-processing-types "audio"');
    // A flag of one number says so: its error offered "model=n", which it does not take.
    const storage = await runCli(['emulator', '--file-storage', '-1']);
    expect(storage.code).toBe(2);
    expect(storage.stderr).toContain(
      'Invalid --file-storage "-1": expected a positive integer, e.g. --file-storage 1000000000.',
    );
    const jobs = await runCli(['emulator', '--max-concurrent-jobs', '0']);
    expect(jobs.stderr).toContain(
      'Invalid --max-concurrent-jobs "0": expected a positive integer, e.g. --max-concurrent-jobs 2.',
    );
    const model = await runCli(['emulator', '--port', '0', '--rpm', 'gemini-2.5-flsh=5']);
    expect(model.code).toBe(2);
    expect(model.stderr).toContain(
      'quotas.models.gemini-2.5-flsh must be keyed by a model the emulator serves',
    );
  });

  it("takes --api-key: the keys it lists are accepted, any other is Google's 400 API_KEY_INVALID", async () => {
    const running = startCli(['emulator', '--port', '0', '--api-key', 'key-one', '--api-key', 'key-two']);
    try {
      const url = /listening on (http:\/\/\S+)/.exec(
        await running.stdoutMatches((out) => /listening on http:\/\/\S+\s/.test(out)),
      )?.[1];
      const list = (key: string) => fetch(`${url}/v1beta/batches`, { headers: { 'x-goog-api-key': key } });
      expect((await list('key-one')).status).toBe(200);
      expect((await list('key-two')).status).toBe(200);
      const refused = await list('key-three');
      expect(refused.status).toBe(400);
      const body = (await refused.json()) as {
        error: { status: string; message: string; details: Array<{ reason?: string }> };
      };
      expect(body.error).toMatchObject({
        status: 'INVALID_ARGUMENT',
        message: 'API key not valid. Please pass a valid API key.',
      });
      expect(body.error.details.map((detail) => detail.reason)).toContain('API_KEY_INVALID');
      // The refused key is not echoed.
      expect(JSON.stringify(body)).not.toContain('key-three');
    } finally {
      running.child.kill('SIGKILL');
    }
  });

  it('takes --http-fault more than once (each flag one fault)', async () => {
    const running = startCli([
      'emulator',
      '--port',
      '0',
      '--http-fault',
      'status_503:list',
      '--http-fault',
      'status_429:count',
    ]);
    try {
      const url = /listening on (http:\/\/\S+)/.exec(
        await running.stdoutMatches((out) => /listening on http:\/\/\S+\s/.test(out)),
      )?.[1];
      const headers = { 'x-goog-api-key': 'http-fault-key', 'content-type': 'application/json' };
      const list = await fetch(`${url}/v1beta/batches`, { headers });
      const count = await fetch(`${url}/v1beta/models/gemini-2.5-flash:countTokens`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
      });
      // The second flag replaced the first (and was read letter by letter: 'Invalid --http-fault "s"').
      expect([list.status, count.status]).toEqual([503, 429]);
    } finally {
      running.child.kill('SIGKILL');
    }
  });

  // The defaults differ per model (2.5 Pro 150 RPM, Flash 1,000), and --rpm set one value for all.
  it('takes a per-model --rpm (model=n) beside the plain one, each model keeping its own limit', async () => {
    const running = startCli([
      'emulator',
      '--port',
      '0',
      '--latency',
      'standard=0s',
      '--rpm',
      'gemini-2.5-pro=2',
      '--rpm',
      '3',
      '--tpm',
      'models/gemini-2.5-flash-lite=10',
    ]);
    try {
      const url = /listening on (http:\/\/\S+)/.exec(
        await running.stdoutMatches((out) => /listening on http:\/\/\S+\s/.test(out)),
      )?.[1];
      const generate = async (model: string, text = 'hi') => {
        const response = await fetch(`${url}/v1beta/models/${model}:generateContent`, {
          method: 'POST',
          headers: { 'x-goog-api-key': 'quota-key', 'content-type': 'application/json' },
          body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text }] }] }),
        });
        const body = (await response.json()) as {
          error?: { details?: Array<{ violations?: Array<{ quotaValue: string }> }> };
        };
        const quota = body.error?.details?.flatMap((detail) => detail.violations ?? [])[0]?.quotaValue;
        return quota === undefined ? response.status : `${response.status} over ${quota}`;
      };
      const statuses = async (model: string, calls: number) => {
        const seen = [];
        for (let call = 0; call < calls; call++) seen.push(await generate(model));
        return seen;
      };
      expect(await statuses('gemini-2.5-pro', 3)).toEqual([200, 200, '429 over 2']);
      expect(await statuses('gemini-2.5-flash', 4)).toEqual([200, 200, 200, '429 over 3']);
      expect(await generate('gemini-2.5-flash-lite', 'a'.repeat(100))).toBe('429 over 10');
    } finally {
      running.child.kill('SIGKILL');
    }
  });

  it('reads durations, ranges, quotas and fault rates into emulator options', async () => {
    const defaults = {
      host: '127.0.0.1',
      port: '0',
      timeScale: '60',
      turnaround: '60s-10m',
      seed: '3',
      fileTtl: '48h',
      jobExpiry: '1h',
    };
    expect(
      await emulatorOptionsFrom({
        ...defaults,
        rpm: ['10'],
        faultRate: ['safety=0.25'],
        faults: '{"jobSequence":["job_failed"]}',
        model: ['my-tuned-model'],
      }),
    ).toMatchObject({
      models: ['my-tuned-model'],
      port: 0,
      timeScale: 60,
      turnaroundMs: { min: 60_000, max: 600_000 },
      seed: 3,
      fileTtlMs: 48 * 3600_000,
      jobExpiryMs: 3600_000,
      quotas: { rpm: 10 },
      faults: { jobSequence: ['job_failed'], rates: { safety: 0.25 } },
    });
    expect(
      (
        await emulatorOptionsFrom({
          ...defaults,
          rpm: ['500', 'gemini-2.5-pro=50'],
          maxEnqueuedTokens: ['gemini-2.5-flash=5000000'],
          rpd: ['gemini-2.5-pro=100', 'gemini-2.5-flash=20000'],
        })
      ).quotas,
    ).toEqual({
      rpm: 500,
      models: {
        'gemini-2.5-pro': { rpm: 50, rpd: 100 },
        'gemini-2.5-flash': { maxEnqueuedTokensPerModel: 5_000_000, rpd: 20_000 },
      },
    });
    expect((await emulatorOptionsFrom({ ...defaults, turnaround: '5m' })).turnaroundMs).toBe(300_000);
    expect(
      await emulatorOptionsFrom({ ...defaults, fileProcessing: '90s', fileProcessingTypes: 'all' }),
    ).toMatchObject({ fileProcessingMs: 90_000, fileProcessingTypes: 'all' });
    expect(
      await emulatorOptionsFrom({
        ...defaults,
        latency: ['flex=2m-20m', 'standard=3s'],
        shedRate: ['flex=0.2'],
        tierLimit: ['flex:rpm=60', 'gemini-2.5-pro:priority:tpm=100000'],
      }),
    ).toMatchObject({
      tiers: {
        flex: { latencyMs: { min: 120_000, max: 1_200_000 }, shedRate: 0.2 },
        standard: { latencyMs: 3_000 },
      },
      tierQuotas: {
        tiers: { flex: { rpm: 60 } },
        models: { 'gemini-2.5-pro': { priority: { tpm: 100_000 } } },
      },
    });
    expect(
      await emulatorOptionsFrom({
        ...defaults,
        faultRate: [
          'job_stuck=0.2',
          'missing_row=0.01',
          'duplicate_row=0.02',
          'upload_stuck=0.5',
          'empty=0.1',
        ],
        httpFault: ['status_429:create=0.3', 'status_429:list', 'drop'],
        refuseMime: ['jsonl'],
        fileStorage: '1000000',
      }),
    ).toMatchObject({
      quotas: { fileStorageBytes: 1_000_000 },
      faults: {
        jobRates: { stuck: 0.2 },
        rowRates: { missing: 0.01, duplicated: 0.02 },
        fileRates: { stuck_processing: 0.5 },
        rates: { empty: 0.1 },
        http: [
          { kind: 'status_429', match: 'create', rate: 0.3 },
          { kind: 'status_429', match: 'list' },
          { kind: 'drop' },
        ],
        refuseMimeTypes: ['jsonl'],
      },
    });
    const unset = await emulatorOptionsFrom(defaults);
    expect([unset.tiers, unset.tierQuotas]).toEqual([undefined, undefined]);
    expect([unset.fileProcessingMs, unset.fileProcessingTypes]).toEqual([undefined, undefined]);
    const bad = async (override: Record<string, unknown>) =>
      emulatorOptionsFrom({ ...defaults, ...override }).then(
        () => '',
        (error: Error & { code?: string }) => `${error.code}: ${error.message}`,
      );
    expect(await bad({ turnaround: '10m-1m' })).toMatch(/^INPUT_EMULATOR_OPTION: .*--turnaround/);
    expect(await bad({ fileTtl: 'two days' })).toMatch(/--file-ttl "two days"/);
    expect(await bad({ fileProcessing: 'soon' })).toMatch(
      /^INPUT_EMULATOR_OPTION: .*--file-processing "soon"/,
    );
    expect(await bad({ fileProcessingTypes: 'audio' })).toMatch(
      /^INPUT_EMULATOR_OPTION: .*--file-processing-types "audio": expected one of video, all/,
    );
    expect(await bad({ faultRate: ['safety=2'] })).toMatch(/--fault-rate/);
    expect(await bad({ faultRate: ['sleepy=0.1'] })).toMatch(/--fault-rate "sleepy=0.1"/);
    expect(await bad({ rpm: ['-1'] })).toMatch(/--rpm/);
    expect(await bad({ rpm: ['=5'] })).toMatch(/--rpm "=5": expected n or model=n/);
    expect(await bad({ tpm: ['gemini-2.5-flash=lots'] })).toMatch(/--tpm "gemini-2.5-flash=lots"/);
    expect(await bad({ httpFault: ['status_418:create'] })).toMatch(/--http-fault "status_418:create"/);
    expect(await bad({ httpFault: ['status_429:upload=2'] })).toMatch(/--http-fault/);
    expect(await bad({ fileStorage: 'lots' })).toMatch(/--file-storage/);
    expect(await bad({ latency: ['turbo=1s'] })).toMatch(/--latency "turbo=1s": expected tier=value/);
    expect(await bad({ latency: ['flex=5m-1m'] })).toMatch(/--latency "flex=5m-1m"/);
    expect(await bad({ shedRate: ['flex=1.5'] })).toMatch(/--shed-rate "flex=1.5"/);
    expect(await bad({ tierLimit: ['flex:rpx=5'] })).toMatch(/--tier-limit "flex:rpx=5"/);
    expect(await bad({ timeScale: '0' })).toMatch(/--time-scale/);
    expect(await bad({ faults: join(tmpdir(), 'no-such-faults.json') })).toMatch(/--faults/);
  });

  it('serves until SIGTERM and streams 50 MB uploads and a large results download without holding them in memory', async () => {
    const dir = tempDir('cli-large');
    cleanups.push(() => dir.remove());
    // A small young generation keeps garbage from inflating the peak (Node 24's V8 grows it to
    // tens of MB under allocation pressure), so the figure measures what the emulator holds.
    const child = spawn(
      process.execPath,
      [
        '--max-semi-space-size=4',
        BIN,
        'emulator',
        '--port',
        '0',
        '--time-scale',
        '1000',
        '--storage-dir',
        join(dir.path, 'storage'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`emulator exited early with ${code}`)));
    });

    const size = 50 * 1024 * 1024;
    const path = join(dir.path, 'large.jsonl');
    const line = Buffer.from(
      `${JSON.stringify({ key: 'k', request: { contents: [{ parts: [{ text: 'x'.repeat(1000) }] }] } })}\n`,
    );
    writeRepeated(path, line, size);
    const ai = new GoogleGenAI({ apiKey: 'test-key', apiVersion: 'v1beta', httpOptions: { baseUrl: url } });
    // Warm up with a multi-chunk upload (the SDK sends 8 MB chunks): the routes are compiled and one
    // chunk's buffers allocated, so the baseline is the server at rest after an upload like the next.
    const warm = join(dir.path, 'warm.jsonl');
    writeRepeated(warm, line, 16 * 1024 * 1024);
    await ai.files.upload({ file: warm, config: { mimeType: 'text/plain' } });
    const baseline = peakRssBytes(child.pid ?? 0);
    const file = await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
    // Twice more: 150 MB in all. Streamed, the peak stays at a plateau (garbage awaiting GC);
    // held in memory, it would grow by the size of every upload.
    await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
    await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
    expect(Number(file.sizeBytes)).toBeGreaterThanOrEqual(size);
    expect(peakRssBytes(child.pid ?? 0) - baseline).toBeLessThan(size);

    // Uploads cannot be downloaded; a batch's results file can: 6,000 answers of 4 KB make a large one.
    const requests = join(dir.path, 'requests.jsonl');
    const generationConfig = {
      responseMimeType: 'application/json',
      responseJsonSchema: {
        type: 'object',
        properties: { text: { type: 'string', minLength: 4000 } },
        required: ['text'],
      },
    };
    writeFileSync(
      requests,
      Array.from({ length: 6000 }, (_, i) =>
        JSON.stringify({
          key: `r${i}`,
          request: { contents: [{ parts: [{ text: `item ${i}` }] }], generationConfig },
        }),
      ).join('\n') + '\n',
    );
    const input = await ai.files.upload({ file: requests, config: { mimeType: 'text/plain' } });
    let job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input.name ?? '' });
    while (job.state !== 'JOB_STATE_SUCCEEDED') {
      expect(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING']).toContain(job.state);
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await ai.batches.get({ name: job.name ?? '' });
    }
    const results = await ai.files.get({ name: job.dest?.fileName ?? '' });
    const resultsSize = Number(results.sizeBytes);
    expect(resultsSize).toBeGreaterThan(20 * 1024 * 1024);
    const beforeDownload = peakRssBytes(child.pid ?? 0);
    await ai.files.download({ file: results.name ?? '', downloadPath: join(dir.path, 'results.jsonl') });
    // Held whole, the file alone would add its size to the peak.
    expect(peakRssBytes(child.pid ?? 0) - beforeDownload).toBeLessThan(resultsSize);
    const hash = await sha256(join(dir.path, 'results.jsonl'));
    expect(Buffer.from(hash).toString('base64')).toBe(results.sha256Hash);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});

/** Writes `line` over and over until the file holds at least `size` bytes. */
function writeRepeated(path: string, line: Buffer, size: number): void {
  const fd = openSync(path, 'w');
  for (let written = 0; written < size; written += line.length) writeSync(fd, line);
  closeSync(fd);
}

/** Peak resident set size of a process (Linux VmHWM). */
function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return Number(match?.[1] ?? 0) * 1024;
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
