import type { RunnerClock } from '../clock.js';
import type { BatchJobInfo, RemoteFile } from '../gemini/index.js';
import { isOwnJobName, jobNamePrefix } from '../planner/job-name.js';
import type { BatchApi } from '../lanes/batch/batch-api.js';
import { unwatchedReason } from '../lanes/batch/remote-reconciler.js';
import { holderGone, takeLease, type HeldLease } from '../store/lease.js';
import { ACTIVE_JOB_STATES, type LeaseHolder, type WorkloadStore } from '../store/store.js';
import { describeError } from '../errors.js';
import { counted } from '../quantities.js';

/** What `wavebatch doctor` looks at. */
export type CheckName =
  'store' | 'lease' | 'intents' | 'in-flight' | 'remote-jobs' | 'remote-files' | 'api-key';

/** One thing the doctor found. */
export interface Finding {
  check: CheckName;
  /** False when something needs attention. */
  ok: boolean;
  message: string;
  /** What `--fix` does about it (absent: nothing to do, or nothing it can do). */
  fix?: string;
  /** With `--fix`: what was done. */
  fixed?: string;
}

export interface DoctorOptions {
  store: WorkloadStore;
  /** The API (with retries); null when it cannot be used (no key): the remote checks are skipped. */
  api: BatchApi | null;
  /** Why `api` is null, for the report. */
  apiUnavailable?: string;
  /** Where `api` is (its base URL), named in findings that hold only for that address. */
  apiAddress?: string;
  workload: string;
  clock: RunnerClock;
  /** Repair what can be repaired; needs the store's lease (RunLockedError while a run holds it). */
  fix: boolean;
}

/**
 * Checks a workload's state store and, through the API, what of it lives remotely: the store file's
 * integrity, the lease, intents left by a crash, in-flight records without a live job, remote jobs
 * and input files of this store that nothing tracks. Without `fix` it changes nothing; with it, it
 * takes the lease first (so never under a running `wavebatch run`) and repairs what it found.
 */
export async function runDoctor(options: DoctorOptions): Promise<Finding[]> {
  const { store, clock } = options;
  const findings: Finding[] = [];
  const integrity = await store.checkIntegrity();
  findings.push(
    integrity.length === 0
      ? {
          check: 'store',
          ok: true,
          message: 'the state store passes SQLite integrity and foreign-key checks',
        }
      : {
          check: 'store',
          ok: false,
          message: `the state store is damaged: ${integrity.slice(0, 5).join('; ')}. Move it aside and run again (outputs on disk count as done).`,
        },
  );
  const holder = await store.readLease();
  findings.push(leaseFinding(holder, clock.now(), options.fix));
  const runActive = holder !== null && !abandoned(holder, clock.now());
  const lease: HeldLease | null = options.fix ? await takeLease(store, { clock, purpose: 'doctor' }) : null;
  try {
    // An API that refuses (a key not valid, an unreachable base URL) is a finding of its own: the
    // local checks are reported all the same (it ended doctor with that error alone).
    const listed = options.api
      ? await listRemote(options.api).then(
          (found) => ({ found }),
          (error: unknown) => ({ error: describeError(error) }),
        )
      : null;
    const remote = listed && 'found' in listed ? listed.found : null;
    if (!remote)
      findings.push({
        check: 'remote-jobs',
        ok: listed === null,
        message: `remote jobs and files not checked: ${listed && 'error' in listed ? listed.error : (options.apiUnavailable ?? 'no API')}`,
      });
    const prefix = jobNamePrefix(options.workload, await store.storeId());
    const ours = remote?.jobs.filter((job) => isOwnJobName(prefix, job.displayName)) ?? null;
    findings.push(...(await intentFindings(options, ours, runActive)));
    findings.push(await strandedFinding(options, runActive));
    if (remote && ours) {
      findings.push(...(await remoteJobFindings(options, ours)));
      findings.push(...(await remoteFileFindings(options, prefix, remote.files)));
    }
  } finally {
    await lease?.release();
  }
  return findings;
}

/** Where a run would get its API key: a key set, the emulator's placeholder, or none. */
export type ApiKeyState = 'GEMINI_API_KEY' | 'GOOGLE_API_KEY' | 'base_url' | null;

/**
 * What doctor says of a workload that has never run: no state store (doctor creates none, a
 * read-only look must leave no trace), so nothing of a crash to repair; what a first run needs that
 * can be checked here is its API key.
 */
export function neverRunFindings(storePath: string, key: ApiKeyState): Finding[] {
  return [
    {
      check: 'store',
      ok: true,
      message: `none: the workload has never run (no ${storePath}; \`wavebatch run\` creates it)`,
    },
    apiKeyFinding(key),
  ];
}

/**
 * Whether a run has an API key, on any workload: without one (and without `api.base_url`) the next
 * run stops at once with API_KEY_MISSING, and the remote checks cannot be made, so it needs attention.
 */
export function apiKeyFinding(key: ApiKeyState): Finding {
  if (key === null)
    return {
      check: 'api-key',
      ok: false,
      message:
        'no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or point api.base_url at the emulator, before `wavebatch run`',
    };
  return {
    check: 'api-key',
    ok: true,
    message:
      key === 'base_url'
        ? 'none set; api.base_url is set, so a placeholder key is sent (the emulator needs no key)'
        : `set (${key})`,
  };
}

/** A lease nobody holds any more: expired, or its process died on this host. */
function abandoned(holder: LeaseHolder, now: number): boolean {
  return holder.expiresAt <= now || holderGone(holder);
}

function leaseFinding(holder: LeaseHolder | null, now: number, fix: boolean): Finding {
  if (!holder) return { check: 'lease', ok: true, message: 'free: no process works on this store' };
  const who = `\`${holder.purpose}\` (pid ${holder.pid} on ${holder.hostname}, since ${new Date(holder.acquiredAt).toISOString()})`;
  if (!abandoned(holder, now)) return { check: 'lease', ok: true, message: `held by a live ${who}` };
  const why = holder.expiresAt <= now ? 'expired' : 'its process is gone';
  return {
    check: 'lease',
    ok: false,
    message: `left by ${who}: ${why}; the next run takes it over`,
    fix: 'take it over (and release it)',
    ...(fix ? { fixed: 'taken over and released' } : {}),
  };
}

async function listRemote(api: BatchApi): Promise<{ jobs: BatchJobInfo[]; files: RemoteFile[] }> {
  const jobs: BatchJobInfo[] = [];
  for await (const job of api.listBatches()) jobs.push(job);
  const files: RemoteFile[] = [];
  for await (const file of api.listFiles()) files.push(file);
  return { jobs, files };
}

/** Intents are normal while a run creates them; otherwise a crash left them: adopt or give up. */
async function intentFindings(
  options: DoctorOptions,
  ours: BatchJobInfo[] | null,
  runActive: boolean,
): Promise<Finding[]> {
  const { store } = options;
  const intents = await store.listJobs(['intent']);
  if (intents.length === 0) return [{ check: 'intents', ok: true, message: 'no job intents pending' }];
  if (runActive)
    return [
      {
        check: 'intents',
        ok: true,
        message: `${intents.length} job intents, being created by the active run`,
      },
    ];
  const findings: Finding[] = [];
  for (const intent of intents) {
    const records = `${intent.recordCount} records`;
    if (!ours) {
      findings.push({
        check: 'intents',
        ok: false,
        message: `intent ${intent.id} (${records}) was left by an interrupted run`,
        fix: 'none without the API; `wavebatch run` adopts or creates it',
      });
      continue;
    }
    const remote = ours.find((job) => job.displayName === intent.id);
    if (remote) {
      if (options.fix) await store.markJobSubmitted(intent.id, remote.name, null);
      findings.push({
        check: 'intents',
        ok: false,
        message: `intent ${intent.id} (${records}) was created remotely as ${remote.name} but not recorded`,
        fix: `adopt ${remote.name}`,
        ...(options.fix ? { fixed: `adopted ${remote.name}` } : {}),
      });
    } else {
      // Nothing was created: giving the intent up costs nothing; the next run sends the records again.
      if (options.fix) await store.abandonJobIntent(intent.id);
      findings.push({
        check: 'intents',
        ok: false,
        message: `intent ${intent.id} (${records}) was never created remotely`,
        fix: 'give it up: its records go back to the queue',
        ...(options.fix ? { fixed: 'given up; its records are ready again' } : {}),
      });
    }
  }
  return findings;
}

/**
 * In-flight records without a live job. A synchronous request's claim has no job: while a run is
 * active its claims are live requests, not strays; once its process is gone they are stranded too.
 */
async function strandedFinding(options: DoctorOptions, runActive: boolean): Promise<Finding> {
  let stranded = await options.store.countStrandedRecords();
  if (runActive && stranded > 0) {
    const claims = (await options.store.listRecords({ status: 'in_flight' })).filter(
      (record) => record.requestId,
    ).length;
    stranded = Math.max(0, stranded - claims);
  }
  if (stranded === 0)
    return { check: 'in-flight', ok: true, message: 'every in-flight record belongs to a live job' };
  const released = options.fix ? await options.store.releaseStrandedRecords() : 0;
  return {
    check: 'in-flight',
    ok: false,
    message: `${stranded} records are in flight in a job that is no longer active, or in synchronous requests of a process that is gone (an interrupted settle, a crash)`,
    fix: 'put them back in the queue',
    ...(options.fix ? { fixed: `${released} records are ready again` } : {}),
  };
}

/** Live remote jobs of this store that nothing tracks are cancelled; jobs tracked but gone are noted. */
async function remoteJobFindings(options: DoctorOptions, ours: BatchJobInfo[]): Promise<Finding[]> {
  const { store, api } = options;
  const findings: Finding[] = [];
  for (const remote of ours) {
    if (remote.state !== 'pending' && remote.state !== 'running') continue;
    const reason = unwatchedReason(remote, await store.getJob(remote.displayName ?? ''));
    if (reason === null) continue;
    if (options.fix) await api?.cancelBatch(remote.name);
    findings.push({
      check: 'remote-jobs',
      ok: false,
      message: `${remote.name} (${remote.displayName}, ${remote.state.toUpperCase()}) runs unwatched: ${reason}`,
      fix: 'cancel it (a run does too, at start and every 10 minutes)',
      ...(options.fix ? { fixed: 'cancelled' } : {}),
    });
  }
  const names = new Set(ours.map((job) => job.name));
  const gone = (await store.listJobs(['pending', 'running', 'succeeded'])).filter(
    (job) => job.remoteName !== null && !names.has(job.remoteName),
  );
  // Jobs live at one API address: a run pointed elsewhere (--base-url, WAVEBATCH_BASE_URL) made
  // them, and a run at this address would send their records again, so the address is named.
  if (gone.length > 0)
    findings.push({
      check: 'remote-jobs',
      ok: true,
      message:
        `${counted(gone.length, 'job')} tracked as active ${gone.length === 1 ? 'does' : 'do'} not exist at ` +
        `${options.apiAddress ?? 'the API'}: a run there returns ${gone.length === 1 ? 'its' : 'their'} records ` +
        'to the queue and sends them again. If the run that made them used another address ' +
        '(--base-url, WAVEBATCH_BASE_URL), check with doctor --base-url <that address> and run with it',
    });
  if (findings.length === 0)
    findings.push({
      check: 'remote-jobs',
      ok: true,
      message: `every live remote job of this store is tracked (${ours.length} in all)`,
    });
  return findings;
}

/** Uploaded job inputs (named after their job) that no active job uses any more are deleted. */
async function remoteFileFindings(
  options: DoctorOptions,
  prefix: string,
  files: RemoteFile[],
): Promise<Finding[]> {
  const inUse = new Set(
    (await options.store.listJobs(ACTIVE_JOB_STATES)).flatMap((job) =>
      job.inputFile ? [job.inputFile] : [],
    ),
  );
  const orphans = files.filter((file) => isOwnJobName(prefix, file.displayName) && !inUse.has(file.name));
  if (orphans.length === 0)
    return [{ check: 'remote-files', ok: true, message: 'no uploaded job input is left without its job' }];
  const findings: Finding[] = [];
  for (const file of orphans) {
    if (options.fix) await options.api?.deleteFile(file.name);
    findings.push({
      check: 'remote-files',
      ok: false,
      message: `${file.name} (${file.displayName}) is the input of a job that is settled or was never created`,
      fix: 'delete it (it would expire within 48 h)',
      ...(options.fix ? { fixed: 'deleted' } : {}),
    });
  }
  return findings;
}
