import type { ScaffoldFile } from './scaffold-file.js';

/** The kinds of starter workload `wavebatch init` writes. */
export const STARTER_SOURCES = ['directory', 'jsonl'] as const;
export type StarterSource = (typeof STARTER_SOURCES)[number];

/** What a user chooses for a new workload (asked on a terminal, or given as flags). */
export interface StarterAnswers {
  name: string;
  source: StarterSource;
  model: string;
  /** An emulator (or other API root) to run against; Google's API when absent. */
  baseUrl?: string;
  /** The `# yaml-language-server: $schema=...` target, relative to the new config. */
  schemaRef: string;
}

/** Whole-word, lower-case, dash-separated, as job names need: "My Catalogs!" → "my-catalogs". */
export function workloadNameFrom(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || 'my-workload';
}

/** Whether `name` is a valid workload name (it prefixes batch job names). */
export function isWorkloadName(name: string): boolean {
  return /^[a-z0-9-]+$/.test(name);
}

/**
 * The files of a starter workload that runs as it is: config, prompt, response schema and a small
 * sample dataset in the chosen source format, to be replaced by the user's own data.
 */
export function starterFiles(answers: StarterAnswers): ScaffoldFile[] {
  switch (answers.source) {
    case 'directory':
      return [
        { path: 'wavebatch.yaml', content: directoryConfig(answers) },
        ...sharedFiles(),
        { path: 'prompts/page/v1.jinja', content: PAGE_PROMPT },
        { path: 'prompts/page/system.jinja', content: SYSTEM_PROMPT },
        { path: 'schema.json', content: json(PAGE_SCHEMA) },
        ...SAMPLE_DOCUMENTS.flatMap(({ folder, pages }) =>
          pages.map((text, index) => ({
            path: `dataset/${folder}/page_${String(index + 1).padStart(3, '0')}.txt`,
            content: `${text}\n`,
          })),
        ),
      ];
    case 'jsonl':
      return [
        { path: 'wavebatch.yaml', content: jsonlConfig(answers) },
        ...sharedFiles(),
        { path: 'prompts/review/v1.jinja', content: REVIEW_PROMPT },
        { path: 'prompts/review/system.jinja', content: SYSTEM_PROMPT },
        { path: 'schema.json', content: json(REVIEW_SCHEMA) },
        { path: 'data.jsonl', content: SAMPLE_ROWS.map((row) => `${JSON.stringify(row)}\n`).join('') },
      ];
    default:
      return answers.source satisfies never;
  }
}

function sharedFiles(): ScaffoldFile[] {
  return [
    { path: '.gitignore', content: '# wavebatch state and outputs\n.wavebatch/\nout/\n', keepExisting: true },
  ];
}

function header(answers: StarterAnswers): string {
  return [
    `# yaml-language-server: $schema=${answers.schemaRef}`,
    '# A wavebatch workload. `npx wavebatch config check` validates it and prints every default;',
    '# `npx wavebatch run` runs it; `npx wavebatch status` shows where it stands.',
  ].join('\n');
}

/** The end of every starter config: the model, execution limits and where the API is. */
function modelAndExecution(answers: StarterAnswers): string {
  const lines = [
    'model:',
    `  name: ${answers.model}`,
    '  generation_config:',
    '    temperature: 0',
    '  response_schema_file: schema.json   # sent as the response schema; every output is validated against it',
    'execution:',
    '  mode: batch                    # batch | flex (the batch price, minutes not hours) | realtime | auto: README "Lanes"',
    '  max_retries: 3                 # per record, then it is dead-lettered (`wavebatch failures --dead`)',
    '  max_concurrent_jobs: 10',
    '  max_requests_per_job: 1000',
  ];
  if (answers.baseUrl) {
    lines.push(
      '  poll_interval: 500ms           # the emulator (--time-scale 3600) finishes jobs in moments; use 30s with Google',
      'api:',
      `  base_url: ${answers.baseUrl}   # \`wavebatch emulator --time-scale 3600\`; remove this line to use Google's API`,
    );
  } else {
    lines.push(
      '  poll_interval: 30s',
      '# api:',
      '#   base_url: http://127.0.0.1:8080   # a local `wavebatch emulator`',
    );
  }
  return lines.join('\n');
}

function directoryConfig(answers: StarterAnswers): string {
  return `${[
    header(answers),
    `name: ${answers.name}`,
    'data_dir: .wavebatch               # the state store',
    'outputs: out                       # one JSON file per record: out/<collection>/<document>/page_NNN.json',
    'source:',
    '  type: directory                  # each leaf folder is a chain of pages, in page-number order',
    '  path: dataset',
    '  levels: [collection, document]   # folder levels: dataset/<collection>/<document>/page_NNN.txt',
    '  # filters: { collection: [letters] }',
    'prompt:',
    '  dir: prompts',
    '  name: page                       # prompts/page/v1.jinja',
    '  version: v1',
    'context:',
    "  field: carry_over                # page N's prompt gets page N-1's carry_over as `context`",
    modelAndExecution(answers),
  ].join('\n')}\n`;
}

function jsonlConfig(answers: StarterAnswers): string {
  return `${[
    header(answers),
    `name: ${answers.name}`,
    'data_dir: .wavebatch               # the state store',
    'outputs: out                       # one JSON file per record: out/<id>.json',
    'source:',
    '  type: jsonl                      # one JSON object per line; its fields are the template variables',
    '  path: data.jsonl',
    '  id_field: id',
    '  # chain_field: thread            # records of one chain run in order, each given the previous output',
    '  # position_field: n',
    'prompt:',
    '  dir: prompts',
    '  name: review                     # prompts/review/v1.jinja',
    '  version: v1',
    modelAndExecution(answers),
  ].join('\n')}\n`;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const SYSTEM_PROMPT = 'You read documents carefully and answer only from what they say.\n';

const PAGE_PROMPT = `Summarise page {{ record.page }} of the document "{{ record.document }}" (collection "{{ record.collection }}").
{% if context %}
The previous page ended with this unfinished thought, which may continue here: {{ context }}
{% endif %}
Give a two-sentence summary, the topics of the page, and in carry_over anything that runs on to the next page (or an empty string).
`;

const PAGE_SCHEMA = {
  type: 'object',
  properties: {
    summary: { type: 'string' },
    topics: { type: 'array', items: { type: 'string' } },
    carry_over: { type: 'string' },
  },
  required: ['summary', 'topics', 'carry_over'],
};

const SAMPLE_DOCUMENTS = [
  {
    folder: 'letters/harbour-survey',
    pages: [
      'Dear Commissioner, the survey of the north harbour is complete. Soundings along the old pier show the channel has silted to six feet at low water, and the',
      'pilots report that loaded barges now wait for the tide. We recommend dredging before the autumn storms, at an estimated cost of four hundred pounds.',
      'The engineers can begin in May if the board approves the funds at its April meeting. Yours faithfully, the Harbour Surveyor.',
    ],
  },
  {
    folder: 'letters/school-report',
    pages: [
      'To the Parish Council: the village school now has forty-two pupils in two rooms. The roof over the infant room leaks in heavy rain, and the',
      'stove smokes when the wind is from the east. The teacher asks for slates, twelve readers and a new map of the county.',
    ],
  },
];

const REVIEW_PROMPT = `Product: {{ record.product }}
Review: {{ record.text }}

Classify the sentiment of this review and say in one sentence what the customer cares about most.
`;

const REVIEW_SCHEMA = {
  type: 'object',
  properties: {
    sentiment: { type: 'string', enum: ['positive', 'neutral', 'negative'] },
    concern: { type: 'string' },
  },
  required: ['sentiment', 'concern'],
};

const SAMPLE_ROWS = [
  { id: 'r001', product: 'kettle', text: 'Boils fast and the handle stays cool. Lid is a bit stiff.' },
  {
    id: 'r002',
    product: 'kettle',
    text: 'Stopped working after two weeks. Customer service never answered.',
  },
  { id: 'r003', product: 'toaster', text: 'Does the job. Nothing special, but the price was right.' },
  {
    id: 'r004',
    product: 'toaster',
    text: 'Toasts evenly on both sides, finally! Crumb tray is easy to empty.',
  },
];
