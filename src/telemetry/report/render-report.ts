import { printable } from '../../printable.js';
import { count } from '../../quantities.js';
import type { AttemptGroup } from '../../store/event-log.js';
import type { RunReport } from './run-report.js';
import { unansweredRequests, unknownCostNote } from '../unanswered-calls.js';

/** What to do about each failure cause; unknown causes get no advice. */
const CAUSE_ADVICE: Record<string, string> = {
  api_error: 'the API refused the request: read the message; 4xx errors are dead-lettered at once',
  invalid_json: 'the answer was not JSON: check that the schema is sent and the prompt asks for JSON only',
  schema_mismatch:
    'the JSON did not match the schema: loosen the schema or describe the fields in the prompt',
  max_tokens: 'the answer was cut off: raise generation_config.max_output_tokens or ask for less',
  safety: 'blocked by safety filters: review the inputs or the safety settings',
  recitation: 'stopped for reciting source material: ask for a summary rather than a copy',
  empty: 'no answer text: usually transient; look at the raw response of a dead letter',
  malformed_result: 'the results file held an unreadable line: retried automatically',
  missing_result: 'the job ended without a result for the record: retried automatically',
  missing_item:
    'a grouped answer left the record out: retried on its own; lower records_per_request if it recurs',
  input_error:
    'the record could not be turned into a request (template, context or media): fix it and requeue',
  too_large: 'the request can never fit a job: raise the limits or shrink the input',
  local_error:
    'wavebatch failed at the stage the message names (the output folder, the state store): fix it and requeue',
};

/** The Markdown report of one run (pure: the same report always renders the same text). */
export function renderRunReport(report: RunReport): string {
  const { run } = report;
  const totals = run.totals;
  const lines: string[] = [`# wavebatch report: ${report.workload}, run ${run.id}`, ''];
  lines.push(
    `- mode: \`${run.mode}\`, outcome: **${totals?.outcome ?? 'running (or stopped without finishing)'}**`,
    `- started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt} (${duration(run.startedAt, run.finishedAt)})` : ''}`,
  );
  if (run.configHash) lines.push(`- config hash \`${run.configHash.slice(0, 12)}\``);
  if (totals?.error) lines.push(`- stopped by an error: ${totals.error}`);
  lines.push('');

  if (totals) {
    lines.push(
      '## Records',
      '',
      table(
        ['state', 'records'],
        Object.entries(totals.counts).map(([k, v]) => [k, String(v)]),
      ),
      '',
    );
    lines.push(
      '## Jobs',
      '',
      `${totals.jobsSubmitted} submitted by this run; ${totals.requests} requests answered or failed in it` +
        (totals.lanes.length > 0 ? ` (lanes: ${totals.lanes.join(', ')})` : '') +
        '.',
      '',
    );
    const reasons = Object.entries(totals.laneReasons ?? {});
    if (reasons.length > 0)
      lines.push(
        "Why `auto` sent them on each lane (settled attempts by the scheduler's reason):",
        '',
        table(
          ['lane', 'sent for'],
          reasons.map(([lane, counts]) => [lane, sentFor(counts ?? {})]),
        ),
        '',
      );
  }
  if (report.jobEvents.length > 0)
    lines.push(
      table(
        ['job event', 'count'],
        report.jobEvents.map((e) => [e.type, String(e.count)]),
      ),
      '',
    );
  if (report.slowestJobs.length > 0) {
    lines.push(
      '### Slowest jobs',
      '',
      table(
        ['job', 'lane', 'requests', 'records', 'done', 'turnaround', 'cost'],
        report.slowestJobs.map((job) => [
          job.jobName ?? job.jobId,
          job.lane,
          String(job.requests),
          String(job.attempts),
          String(job.done),
          milliseconds(job.latencyMs),
          usd(job.costUsd),
        ]),
      ),
      '',
    );
  }

  lines.push('## Attempts by outcome and cause', '');
  lines.push(
    report.attempts.length === 0
      ? 'No attempt was settled in this run.'
      : table(
          ['outcome', 'cause', 'attempts', 'records'],
          sumBy(report.attempts, (g) => `${g.type}\u0000${g.cause ?? ''}`).map(([key, sum]) => {
            const [type, cause] = key.split('\u0000');
            return [type ?? '', cause || '-', String(sum.attempts), String(sum.records)];
          }),
        ),
    '',
  );

  lines.push('## Tokens and cost', '');
  if (totals)
    lines.push(
      `${count(totals.inputTokens)} input, ${count(totals.outputTokens)} output (${count(totals.thoughtsTokens)} of them thinking) tokens; **${usd(totals.costUsd)}**.`,
      '',
    );
  const unknown = unansweredRequests(report.attempts);
  if (unknown > 0) lines.push(`${unknownCostNote(unknown)}.`, '');
  if (report.attempts.length > 0)
    lines.push(
      table(
        ['model', 'lane', 'prompt', 'attempts', 'input', 'output', 'thinking', 'cost'],
        sumBy(report.attempts, (g) => `${g.model ?? '-'}\u0000${g.lane}\u0000${promptLabel(g)}`).map(
          ([key, sum]) => [
            ...key.split('\u0000'),
            String(sum.attempts),
            count(sum.inputTokens),
            count(sum.outputTokens),
            count(sum.thoughtsTokens),
            usd(sum.costUsd),
          ],
        ),
      ),
      '',
    );

  lines.push('## Prompt versions side by side (all runs)', '');
  lines.push(promptComparison(report.allAttempts), '');

  lines.push('## Failure analysis', '');
  lines.push(failureAnalysis(report), '');
  // Failure messages, finish reasons and run errors are the API's text: printed by `report` and read
  // with `cat reports/run-<id>.md`, an escape sequence in them would drive the terminal.
  return printable(`${lines.join('\n').trimEnd()}\n`);
}

/** "deadline 4, best effort 2", as the run's summary says it. */
function sentFor(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([reason, count]) => `${reason.replace(/_/g, ' ')} ${count}`)
    .join(', ');
}

/** One row per prompt version over all history: success rate, and tokens and cost per record. */
function promptComparison(groups: AttemptGroup[]): string {
  const byPrompt = sumBy(groups, promptLabel);
  if (byPrompt.length === 0) return 'No attempts yet.';
  const done = new Map(
    sumBy(
      groups.filter((g) => g.type === 'done'),
      promptLabel,
    ),
  );
  const causes = new Map<string, Map<string, number>>();
  for (const group of groups) {
    if (group.cause === null) continue;
    const perPrompt = causes.get(promptLabel(group)) ?? new Map<string, number>();
    perPrompt.set(group.cause, (perPrompt.get(group.cause) ?? 0) + group.attempts);
    causes.set(promptLabel(group), perPrompt);
  }
  return table(
    [
      'prompt',
      'attempts',
      'succeeded',
      'success rate',
      'tokens / record',
      'cost / record',
      'top failure causes',
    ],
    byPrompt.map(([prompt, sum]) => {
      const succeeded = done.get(prompt);
      const records = succeeded?.records ?? 0;
      const top = [...(causes.get(prompt) ?? new Map<string, number>())]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3)
        .map(([cause, n]) => `${cause} (${n})`)
        .join(', ');
      return [
        prompt,
        String(sum.attempts),
        String(succeeded?.attempts ?? 0),
        percent((succeeded?.attempts ?? 0) / sum.attempts),
        records === 0 ? '-' : count(Math.round((sum.inputTokens + sum.outputTokens) / records)),
        records === 0 ? '-' : usd(sum.costUsd / records),
        top || '-',
      ];
    }),
  );
}

function failureAnalysis(report: RunReport): string {
  if (report.causes.length === 0) return 'No failures in this run.';
  const parts: string[] = [
    table(
      ['cause', 'failures', 'records', 'dead-lettered'],
      report.causes.map((c) => [c.cause, String(c.attempts), String(c.records), String(c.dead)]),
    ),
    '',
  ];
  for (const { cause, attempts, records, dead } of report.causes) {
    parts.push(`### ${cause}: ${attempts} failures, ${records} records, ${dead} dead-lettered`, '');
    if (CAUSE_ADVICE[cause]) parts.push(`What to do: ${CAUSE_ADVICE[cause]}.`, '');
    for (const example of report.failureExamples.get(cause) ?? [])
      parts.push(
        `- \`${example.recordId ?? '?'}\` attempt ${example.attempt ?? '?'}: ${oneLine(example.message ?? '')}`,
      );
    parts.push('');
  }
  parts.push(
    "`wavebatch log --cause <cause>` lists every failure; `wavebatch show <record>` one record's history.",
  );
  return parts.join('\n');
}

interface Sum {
  attempts: number;
  records: number;
  inputTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  costUsd: number;
}

/** Groups summed under a key, in the order the keys first appear. */
function sumBy(groups: AttemptGroup[], key: (group: AttemptGroup) => string): Array<[string, Sum]> {
  const sums = new Map<string, Sum>();
  for (const group of groups) {
    const k = key(group);
    const sum = sums.get(k) ?? {
      attempts: 0,
      records: 0,
      inputTokens: 0,
      outputTokens: 0,
      thoughtsTokens: 0,
      costUsd: 0,
    };
    sum.attempts += group.attempts;
    sum.records += group.records;
    sum.inputTokens += group.inputTokens;
    sum.outputTokens += group.outputTokens;
    sum.thoughtsTokens += group.thoughtsTokens;
    sum.costUsd += group.costUsd;
    sums.set(k, sum);
  }
  return [...sums];
}

function promptLabel(group: AttemptGroup): string {
  return group.promptName === null ? '-' : `${group.promptName}/${group.promptVersion ?? '?'}`;
}

function table(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/**
 * A stored failure message on one line, not cut: it was cut once where it was made (the quote of the
 * API's message by classification, an error's by describeError), and `wavebatch log` prints it
 * whole. Cut again here at 240 characters, an example lost its end and said less than the log.
 */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function usd(value: number): string {
  return `$${value.toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 4)}`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function milliseconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function duration(from: string, to: string): string {
  return milliseconds(Math.max(0, Date.parse(to) - Date.parse(from)));
}
