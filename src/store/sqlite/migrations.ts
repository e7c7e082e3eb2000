/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Never edit a
 * shipped migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE records (
    id TEXT PRIMARY KEY,
    chain_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    predecessor_id TEXT,
    vars_json TEXT NOT NULL,
    media_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'blocked'
      CHECK (status IN ('blocked', 'ready', 'in_flight', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    job_id TEXT,
    remaining INTEGER NOT NULL DEFAULT 1,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX records_by_status ON records (status, remaining DESC, chain_id, position);
  CREATE INDEX records_by_chain ON records (chain_id, position);
  CREATE INDEX records_by_predecessor ON records (predecessor_id);
  CREATE INDEX records_by_job ON records (job_id);

  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    remote_name TEXT UNIQUE,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('inline', 'file')),
    input_file TEXT,
    request_count INTEGER NOT NULL,
    estimated_tokens INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX jobs_by_state ON jobs (state);

  CREATE TABLE job_records (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    record_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    prompt_hash TEXT NOT NULL,
    estimated_tokens INTEGER NOT NULL,
    PRIMARY KEY (job_id, record_id)
  );
  CREATE INDEX job_records_by_record ON job_records (record_id);

  CREATE TABLE failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    job_id TEXT,
    attempt INTEGER NOT NULL,
    cause TEXT NOT NULL,
    message TEXT NOT NULL,
    raw TEXT,
    prompt_name TEXT,
    prompt_version TEXT,
    prompt_hash TEXT,
    final INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
  );
  CREATE INDEX failures_by_record ON failures (record_id);
  CREATE INDEX failures_by_cause ON failures (cause);

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mode TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    summary_json TEXT
  );
  `,
  // 2: media files uploaded to the Files API, reused by content while the remote copy lives.
  `
  CREATE TABLE media_files (
    sha256 TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    remote_name TEXT NOT NULL,
    uri TEXT NOT NULL,
    expires_at TEXT,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, mime_type)
  );
  `,
  // 3: the inference log (an event per attempt and per job or record transition), texts stored
  // once by hash (rendered prompts, generation configs), and what each run did.
  `
  CREATE TABLE texts (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
  );

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('attempt', 'record', 'job')),
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    run_id INTEGER,
    lane TEXT NOT NULL,
    job_id TEXT,
    job_name TEXT,
    request_id TEXT,
    record_id TEXT,
    chain_id TEXT,
    position INTEGER,
    model TEXT,
    prompt_name TEXT,
    prompt_version TEXT,
    prompt_hash TEXT,
    context_digest TEXT,
    generation_config_hash TEXT,
    attempt INTEGER,
    cause TEXT,
    message TEXT,
    raw TEXT,
    stack TEXT,
    output_json TEXT,
    finish_reason TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    thoughts_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    latency_ms INTEGER,
    started_at TEXT,
    finished_at TEXT,
    requests INTEGER
  );
  CREATE INDEX events_by_record ON events (record_id, id);
  CREATE INDEX events_by_run ON events (run_id, kind);
  CREATE INDEX events_by_job ON events (job_id);
  CREATE INDEX events_by_at ON events (at);

  ALTER TABLE job_records ADD COLUMN context_digest TEXT;

  ALTER TABLE runs ADD COLUMN config_hash TEXT;
  ALTER TABLE runs ADD COLUMN outcome TEXT;
  ALTER TABLE runs ADD COLUMN counts_json TEXT;
  ALTER TABLE runs ADD COLUMN jobs_submitted INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN thoughts_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN lanes_json TEXT;
  ALTER TABLE runs ADD COLUMN error TEXT;
  `,
  // 4: the store's exclusive lease (one row: who works on this store now), and the store's identity,
  // which names its remote jobs so that jobs of another store of the same workload are never touched.
  `
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    hostname TEXT NOT NULL,
    purpose TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(4))));
  `,
  // 5: outputs in JSONL shards: each done record's line (shard, offset, length), each shard's
  // committed length, and which kind of sink holds the done records.
  `
  ALTER TABLE records ADD COLUMN output_shard INTEGER;
  ALTER TABLE records ADD COLUMN output_offset INTEGER;
  ALTER TABLE records ADD COLUMN output_length INTEGER;
  CREATE INDEX records_by_output ON records (output_shard, output_offset) WHERE output_shard IS NOT NULL;
  CREATE TABLE output_shards (shard INTEGER PRIMARY KEY, bytes INTEGER NOT NULL);
  CREATE TABLE output_sink (id INTEGER PRIMARY KEY CHECK (id = 1), kind TEXT NOT NULL);
  `,
  // 6: provenance: the content hash of each record as it was sent, records queued again because
  // their output is stale, and file digests remembered by size and modification time.
  `
  ALTER TABLE job_records ADD COLUMN source_hash TEXT;
  ALTER TABLE records ADD COLUMN redo INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE file_digests (
    path TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    sha256 TEXT NOT NULL
  );
  `,
  // 7: records in flight in a synchronous request (flex, standard, priority) rather than a batch job:
  // the lane and request that claimed each, and when. `lane` stays after a settle: the lane the
  // record's output came from. Failures name the request they belong to.
  `
  ALTER TABLE records ADD COLUMN lane TEXT;
  ALTER TABLE records ADD COLUMN request_id TEXT;
  ALTER TABLE records ADD COLUMN claimed_at TEXT;
  CREATE INDEX records_by_request ON records (request_id) WHERE request_id IS NOT NULL;
  ALTER TABLE failures ADD COLUMN request_id TEXT;
  `,
  // 8: records out of a job (nearly all of them) leave the job index. Their NULL entries sat in
  // rowid order, so sending and settling a round (one record per chain) moved an entry on a
  // different index page per record: two scattered page writes each, about a third of the bytes a
  // record cost the disk. Lookups are always by a job id, which the partial index still serves.
  `
  DROP INDEX records_by_job;
  CREATE INDEX records_by_job ON records (job_id) WHERE job_id IS NOT NULL;
  `,
  // 9: a record's own prompt is kept under the record's row (record_key = records.rowid) and its
  // hash. Rows are placed by position, then chain, so a round's prompts land side by side at the
  // end of that index; keyed by hash alone, each landed on a page of its own (about 4 kB written
  // per record at a million records). Group prompts and generation configs, owned by no single
  // record, stay keyed by hash alone; the stored texts keep their rows.
  `
  CREATE TABLE texts_by_owner (
    id INTEGER PRIMARY KEY,
    record_key INTEGER,
    hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  INSERT INTO texts_by_owner (hash, kind, body, created_at)
    SELECT hash, kind, body, created_at FROM texts ORDER BY rowid;
  DROP TABLE texts;
  ALTER TABLE texts_by_owner RENAME TO texts;
  CREATE UNIQUE INDEX texts_by_hash ON texts (hash) WHERE record_key IS NULL;
  CREATE UNIQUE INDEX texts_by_record ON texts (record_key, hash) WHERE record_key IS NOT NULL;
  `,
  // 10: a record's events and job memberships are indexed by the record's row (records.rowid)
  // rather than its id, for the same reason: a round's entries then share a stretch of the index
  // instead of landing on a page each. Events of ids the store has no record of (rejected source
  // lines) keep an index by id.
  `
  ALTER TABLE events ADD COLUMN record_key INTEGER;
  UPDATE events SET record_key = (SELECT rowid FROM records WHERE records.id = events.record_id)
    WHERE record_id IS NOT NULL;
  DROP INDEX events_by_record;
  CREATE INDEX events_by_record ON events (record_key, id) WHERE record_key IS NOT NULL;
  CREATE INDEX events_by_unknown_record ON events (record_id) WHERE record_key IS NULL;
  ALTER TABLE job_records ADD COLUMN record_key INTEGER;
  UPDATE job_records SET record_key = (SELECT rowid FROM records WHERE records.id = job_records.record_id);
  DROP INDEX job_records_by_record;
  CREATE INDEX job_records_by_record ON job_records (record_key);
  `,
  // 11: the latest attempts of a synchronous lane, found without reading the batch attempts (a
  // million-record batch workload's start-up read every event three times to find none). Batch
  // attempts never enter this index, so a batch run writes nothing more.
  `
  CREATE INDEX events_by_sync_attempt ON events (lane, id) WHERE kind = 'attempt' AND lane <> 'batch';
  `,
  // 12: the attempts of all runs grouped as reports and status show them, kept up to date as events
  // are logged (see attempt-totals.ts), instead of a GROUP BY over the whole inference log per call.
  `
  CREATE TABLE attempt_totals (
    model TEXT NOT NULL,
    lane TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    type TEXT NOT NULL,
    cause TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    records INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    thoughts_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    latency_ms INTEGER NOT NULL,
    PRIMARY KEY (model, lane, prompt_name, prompt_version, type, cause)
  ) WITHOUT ROWID;
  INSERT INTO attempt_totals
    SELECT COALESCE(model, ''), COALESCE(lane, ''), COALESCE(prompt_name, ''), COALESCE(prompt_version, ''),
           type, COALESCE(cause, ''), COUNT(*), COUNT(DISTINCT record_id), COALESCE(SUM(input_tokens), 0),
           COALESCE(SUM(output_tokens), 0), COALESCE(SUM(thoughts_tokens), 0), COALESCE(SUM(cost_usd), 0),
           COALESCE(SUM(latency_ms), 0)
      FROM events WHERE kind = 'attempt' OR (kind = 'record' AND type = 'rejected')
     GROUP BY 1, 2, 3, 4, 5, 6;
  `,
  // 13: each run's attempts summed per lane as events are logged (see attempt-totals.ts): the
  // dispatcher of a synchronous or auto run reads them at every answer, and summing the run's events
  // each time grew with the run (quadratic over it).
  `
  CREATE TABLE run_usage (
    run_id INTEGER NOT NULL,
    lane TEXT NOT NULL,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    thoughts_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    PRIMARY KEY (run_id, lane)
  ) WITHOUT ROWID;
  INSERT INTO run_usage
    SELECT run_id, lane, COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
           COALESCE(SUM(thoughts_tokens), 0), COALESCE(SUM(cost_usd), 0)
      FROM events WHERE kind = 'attempt' AND run_id IS NOT NULL AND lane IS NOT NULL
     GROUP BY run_id, lane;
  `,
  // 14: the state each chain's assembled document was last written from (see assembly-states.ts), so
  // a run's start rebuilds only the documents of chains that changed since, not every one.
  `
  CREATE TABLE assembly_states (
    chain_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 15: a success's output kept once. With the JSONL sink the attempt's event refers to the shard
  // line holding the output (shard, offset, length) instead of a second copy in output_json: with
  // outputs of about 1 kB that copy was 45% of the store and a fifth of the bytes written to disk.
  `
  ALTER TABLE events ADD COLUMN output_shard INTEGER;
  ALTER TABLE events ADD COLUMN output_offset INTEGER;
  ALTER TABLE events ADD COLUMN output_length INTEGER;
  `,
  // 16: a record's variables and media (its page text, often kilobytes) move out of its row into
  // record_inputs, keyed by the same rowid (so a round's inputs sit together as its rows do) and
  // written when the source changes them. The row itself is rewritten at every step of the record's
  // life (linked, ready, claimed, done, its successor unblocked), each time copied to the WAL and
  // again at the checkpoint: with 2 kB of text per record that was most of the bytes written.
  `
  CREATE TABLE record_inputs (
    record_key INTEGER PRIMARY KEY,
    vars_json TEXT NOT NULL,
    media_json TEXT NOT NULL
  );
  INSERT INTO record_inputs (record_key, vars_json, media_json)
    SELECT rowid, vars_json, media_json FROM records ORDER BY rowid;
  ALTER TABLE records DROP COLUMN vars_json;
  ALTER TABLE records DROP COLUMN media_json;
  `,
  // 17: a job's requests beside its records (request_count counts records): with
  // records_per_request a job of 5,000 records may send 500 requests. Older jobs sent one per record
  // as far as the store knows, so their count is left empty and read as their records.
  `
  ALTER TABLE jobs ADD COLUMN requests INTEGER;
  `,
  // 18: the requests among the attempts. With records_per_request one request answers several
  // records, and each record logs an attempt (its share of the usage), so counting attempts said
  // '12 requests' for 4. An attempt's event now says how many requests it stands for (1, or 0 for a
  // grouped request's other records); older events were counted one request each, as before.
  `
  ALTER TABLE attempt_totals ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
  UPDATE attempt_totals SET requests = attempts WHERE type <> 'rejected';
  `,
  // 19: a run's report read from totals kept as events are logged (see attempt-totals.ts), not from
  // the run's events: its attempts in the report's groups (run_attempts) and per batch job (run_jobs,
  // the slowest jobs). Grouping a million-record run's events took 4 s at the end of the run and
  // again per `report`. Its failures per cause come through an index of the failed attempts only.
  `
  CREATE TABLE run_attempts (
    run_id INTEGER NOT NULL,
    model TEXT NOT NULL,
    lane TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    type TEXT NOT NULL,
    cause TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    records INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    thoughts_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    latency_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, model, lane, prompt_name, prompt_version, type, cause)
  ) WITHOUT ROWID;
  INSERT INTO run_attempts
    SELECT run_id, COALESCE(model, ''), COALESCE(lane, ''), COALESCE(prompt_name, ''), COALESCE(prompt_version, ''),
           type, COALESCE(cause, ''), COUNT(*), SUM(CASE WHEN kind = 'attempt' THEN COALESCE(requests, 1) ELSE 0 END),
           COUNT(DISTINCT record_id), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
           COALESCE(SUM(thoughts_tokens), 0), COALESCE(SUM(cost_usd), 0), COALESCE(SUM(latency_ms), 0)
      FROM events WHERE (kind = 'attempt' OR (kind = 'record' AND type = 'rejected')) AND run_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6, 7;
  CREATE TABLE run_jobs (
    run_id INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    job_name TEXT,
    lane TEXT,
    attempts INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    done INTEGER NOT NULL,
    latency_ms INTEGER,
    cost_usd REAL NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, job_id)
  ) WITHOUT ROWID;
  INSERT INTO run_jobs
    SELECT run_id, job_id, MAX(job_name), MAX(lane), COUNT(*), SUM(COALESCE(requests, 1)),
           SUM(CASE WHEN type = 'done' THEN 1 ELSE 0 END), MAX(latency_ms), COALESCE(SUM(cost_usd), 0),
           MIN(started_at), MAX(finished_at)
      FROM events WHERE kind = 'attempt' AND job_id IS NOT NULL AND run_id IS NOT NULL
     GROUP BY run_id, job_id;
  CREATE INDEX events_by_cause ON events (run_id, cause) WHERE cause IS NOT NULL;
  `,
  // 20: how far each exporter (OpenTelemetry traces, metrics) has delivered the inference log: a run
  // killed with SIGKILL lost the spans and counts its SDK held in memory, and the next run exported
  // only its own. Empty: an exporter starts at the last event logged when it is first set up.
  `
  CREATE TABLE export_watermarks (
    exporter TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 21: why an auto run sent its settled attempts on each lane (the scheduler's reasons), kept with
  // the run's totals so its report says it: the decisions are in no table of the inference log.
  `
  ALTER TABLE runs ADD COLUMN lane_reasons_json TEXT;
  `,
  // 22: how many of a record's batch jobs ended EXPIRED since it was last done or requeued. An
  // expiry counts no attempt (Google's queue, not the record), but a job that always expires was
  // sent again for ever: past max_retries expiries the record is dead-lettered (job_expired).
  `
  ALTER TABLE records ADD COLUMN expiries INTEGER NOT NULL DEFAULT 0;
  `,
  // 23: every name a job's JSONL input is uploaded under, recorded before the upload starts. A job
  // refused, split, abandoned or ended drops its name (or its row), and a crash between upload and
  // create left a file no row named: it stayed in the project's Files storage (20 GB) for 48 h. A
  // name no active job uses any more is deleted by the input-file sweep, then forgotten here. The
  // inputs jobs already name are recorded too: those of settled jobs are deleted (or found gone).
  `
  CREATE TABLE input_uploads (
    name TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX jobs_by_input_file ON jobs (input_file) WHERE input_file IS NOT NULL;
  INSERT OR IGNORE INTO input_uploads (name, job_id, recorded_at)
    SELECT input_file, id, updated_at FROM jobs WHERE input_file IS NOT NULL;
  `,
  // 24: how many of a batch job's estimated input tokens are audio: max_cost counts a job in flight
  // at its estimate, and priced its audio at the text rate (a third of 2.5 Flash's audio rate), so
  // records sent beside it took the bill past the cap. A job made before counts none.
  `
  ALTER TABLE jobs ADD COLUMN estimated_audio_tokens INTEGER NOT NULL DEFAULT 0;
  `,
  // 25: a refused delete of an unused upload (5xx, 429, no answer) waits before its next try, longer
  // after each failure: the sweep tried it again at every pass of every run, and a file Google kept
  // refusing was asked for every few seconds. Stored, not held in memory: the sweep reads the oldest
  // unused uploads a page at a time, and files held back in memory would fill that page, pass after
  // pass, ahead of the newer ones it could delete; and a run started again (by cron, after a crash)
  // would try every one of them at once.
  `
  ALTER TABLE input_uploads ADD COLUMN delete_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE input_uploads ADD COLUMN next_delete_at TEXT;
  `,
  // 26: the request each of a batch job's records travels in, and its audio: max_cost counts a job
  // in flight request by request, as the API bills it, and spread the job's tokens evenly over its
  // requests; a job of one request over the long-context threshold among short ones was counted at
  // the lower rates for all of them, and records sent beside it took the bill past the cap. A job
  // made before keeps no request (NULL) and is counted in even shares, as before.
  `
  ALTER TABLE job_records ADD COLUMN request INTEGER;
  ALTER TABLE job_records ADD COLUMN audio_tokens REAL NOT NULL DEFAULT 0;
  `,
];
