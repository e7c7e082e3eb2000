import { isAbsolute, relative, resolve } from 'node:path';
import { SeedConfigError } from './errors.js';

/** The seed's directory layout: `<image_source_dir>/<state>/<school>/<year>/page_NNN.png`. */
const SEED_LEVELS = ['state', 'school', 'year'];

/** Seed template variables and the wavebatch values they are set from, in the copied template. */
const TEMPLATE_VARIABLES: Record<string, string> = {
  previous_page: 'context',
  page_number: 'record.page',
  page: 'record.page',
};

/** Keys whose values are never printed or copied: keys belong in the environment. */
const SECRET_KEY = /(^|_)(api_?key|key|token|secret|password)$/i;

/** One seed key carried over, and where it went. */
export interface MappedKey {
  from: string;
  to: string;
  value: unknown;
  note?: string;
}

/** One seed key that has no wavebatch equivalent (its value is not repeated, it may be a secret; a Braintrust project name is). */
export interface UnmappedKey {
  key: string;
  reason: string;
}

/** What the converter found on disk for the seed config (gathered by `readSeedFacts`). */
export interface SeedFacts {
  /** Absolute folder of the seed config: its relative paths start there. */
  seedDir: string;
  /** Absolute folder the wavebatch.yaml goes to: the paths written are relative to it. */
  targetDir: string;
  /** Depth of the first page file under image_source_dir (3 for state/school/year), or null. */
  datasetDepth: number | null;
  /** Whether output_dir already holds files (the seed's own outputs, in the seed's format). */
  outputDirHasFiles: boolean;
  /** The seed template found from prompt.registry_dir / name / template_file, or null. */
  template: { path: string; text: string } | null;
}

/** The wavebatch config (as data, in key order), what was mapped and what could not be. */
export interface SeedConversion {
  config: Record<string, unknown>;
  /** The template to write at prompts/<name>/<version>.jinja, with the seed's variables set up. */
  template: { name: string; version: string; text: string } | null;
  mapped: MappedKey[];
  unmapped: UnmappedKey[];
  /** What the user should know about the result beyond the keys. */
  notes: string[];
}

type Section = Record<string, unknown>;

/**
 * Converts a seed system `config.yaml` (parsed) into a wavebatch config: paths, filters, execution
 * limits, model and prompt. Pure: everything read from disk arrives in `facts`.
 */
export function convertSeedConfig(
  seed: unknown,
  facts: SeedFacts,
  options: { name: string; baseUrl?: string },
): SeedConversion {
  if (!isSection(seed)) throw new SeedConfigError('the seed config is not a YAML mapping of sections');
  const mapped: MappedKey[] = [];
  const unmapped: UnmappedKey[] = [];
  const used = new Set<string>();
  const take = (path: string): unknown => {
    used.add(path);
    return lookup(seed, path);
  };
  const here = (path: string) => {
    const absolute = isAbsolute(path) ? path : resolve(facts.seedDir, path);
    const fromTarget = relative(facts.targetDir, absolute);
    return fromTarget === '' ? '.' : fromTarget;
  };

  const imageDir = take('paths.image_source_dir');
  if (typeof imageDir !== 'string' || imageDir.trim() === '')
    throw new SeedConfigError(
      'paths.image_source_dir is missing: the seed config must say where the page images are',
    );
  const levels = levelsFor(facts.datasetDepth);
  const source: Section = { type: 'directory', path: here(imageDir), levels };
  mapped.push({
    from: 'paths.image_source_dir',
    to: 'source.path',
    value: source.path,
    note: `a directory source; each ${levels.join('/')} folder is a chain of pages in page order`,
  });

  const filters: Section = {};
  for (const [key, level] of [
    ['filters.target_states', 'state'],
    ['filters.target_years', 'year'],
  ] as const) {
    const value = take(key);
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
    const filter = levelFilter(value);
    if (filter === null)
      unmapped.push({ key, reason: 'expected a list of values or a range { start, end }' });
    else if (!levels.includes(level))
      unmapped.push({
        key,
        reason: `the dataset has no ${level} folder level (levels: ${levels.join(', ')})`,
      });
    else {
      filters[level] = filter;
      mapped.push({ from: key, to: `source.filters.${level}`, value: filter });
    }
  }
  if (Object.keys(filters).length > 0) source.filters = filters;

  const outputDir = take('paths.output_dir');
  let outputs = 'out';
  if (typeof outputDir === 'string' && outputDir.trim() !== '') {
    outputs = facts.outputDirHasFiles ? `${here(outputDir)}/wavebatch` : here(outputDir);
    mapped.push({
      from: 'paths.output_dir',
      to: 'outputs',
      value: outputs,
      ...(facts.outputDirHasFiles
        ? {
            note: "the folder holds the seed's outputs, in another format: wavebatch writes beside them so they are neither overwritten nor taken for its own",
          }
        : {}),
    });
  }

  const execution: Section = {};
  for (const [key, to] of [
    ['execution.batch_size_limit', 'max_requests_per_job'],
    ['execution.max_concurrent_batches', 'max_concurrent_jobs'],
  ] as const) {
    const value = take(key);
    if (value === undefined) continue;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 1) {
      execution[to] = value;
      mapped.push({ from: key, to: `execution.${to}`, value });
    } else unmapped.push({ key, reason: 'expected a whole number of at least 1' });
  }
  execution.poll_interval = options.baseUrl ? '500ms' : '30s';

  const model = modelFrom(take('model'), mapped, unmapped, used);
  const prompt = promptFrom(facts, levels, take, mapped, unmapped);

  for (const key of leafKeys(seed)) {
    if (used.has(key)) continue;
    const secret = SECRET_KEY.test(key.split('.').at(-1) ?? '');
    unmapped.push({
      key,
      reason:
        secret && key.startsWith('braintrust.')
          ? `not copied: set BRAINTRUST_API_KEY (and BRAINTRUST_PROJECT) in the environment instead; ${BRAINTRUST_README}`
          : secret
            ? 'not copied: API keys come only from GEMINI_API_KEY / GOOGLE_API_KEY'
            : reasonFor(key, lookup(seed, key)),
    });
  }
  const config: Section = {
    name: options.name,
    data_dir: '.wavebatch',
    outputs,
    source,
    prompt: prompt.section,
    model,
    execution,
  };
  if (options.baseUrl) config.api = { base_url: options.baseUrl };
  const notes = [
    "The seed config names no response schema: outputs are kept as the model's text and each page's prompt " +
      'gets the previous text as context. Add model.response_schema_file (a JSON Schema) to have outputs ' +
      'validated as JSON, and context.field to pass on only a part of them.',
  ];
  return { config, template: prompt.template, mapped, unmapped, notes };
}

/** Level names for a dataset depth: the seed's own three, or numbered ones. */
function levelsFor(depth: number | null): string[] {
  if (depth === null || depth === SEED_LEVELS.length) return [...SEED_LEVELS];
  return Array.from({ length: Math.max(1, depth) }, (_, index) => `level_${index + 1}`);
}

/** A list of values, or a `{ start, end }` / `{ min, max }` / "1900-1950" range. */
function levelFilter(value: unknown): Array<string | number> | { min?: number; max?: number } | null {
  if (Array.isArray(value))
    return value.every((item) => typeof item === 'string' || typeof item === 'number')
      ? (value as Array<string | number>)
      : null;
  if (typeof value === 'string' || typeof value === 'number') {
    const range = /^\s*(\d+)\s*[-–]\s*(\d+)\s*$/.exec(String(value));
    return range ? { min: Number(range[1]), max: Number(range[2]) } : [value];
  }
  if (isSection(value)) {
    const min = value.start ?? value.min ?? value.from;
    const max = value.end ?? value.max ?? value.to;
    const range: { min?: number; max?: number } = {};
    if (typeof min === 'number') range.min = min;
    if (typeof max === 'number') range.max = max;
    return range.min === undefined && range.max === undefined ? null : range;
  }
  return null;
}

/** `model: gemini-2.5-flash`, or `model: { name, temperature, max_output_tokens, ... }`. */
function modelFrom(value: unknown, mapped: MappedKey[], unmapped: UnmappedKey[], used: Set<string>): Section {
  if (typeof value === 'string' && value.trim() !== '') {
    mapped.push({ from: 'model', to: 'model.name', value });
    return { name: value };
  }
  if (!isSection(value)) {
    unmapped.push({
      key: 'model',
      reason: 'missing or not a model name: gemini-2.5-flash was written instead',
    });
    return { name: 'gemini-2.5-flash' };
  }
  const model: Section = {};
  const generation: Section = {};
  for (const [key, item] of Object.entries(value)) {
    used.add(`model.${key}`);
    if (key === 'name' || key === 'model_name' || key === 'id') {
      model.name = item;
      mapped.push({ from: `model.${key}`, to: 'model.name', value: item });
    } else if (typeof item === 'number' || typeof item === 'string' || typeof item === 'boolean') {
      const camel = key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
      generation[camel] = item;
      mapped.push({ from: `model.${key}`, to: `model.generation_config.${camel}`, value: item });
    } else unmapped.push({ key: `model.${key}`, reason: 'not a generation setting wavebatch can pass on' });
  }
  if (typeof model.name !== 'string') {
    model.name = 'gemini-2.5-flash';
    unmapped.push({ key: 'model', reason: 'no model name: gemini-2.5-flash was written instead' });
  }
  if (Object.keys(generation).length > 0) model.generation_config = generation;
  return model;
}

/** prompt.registry_dir / name / template_file → a copied template at prompts/<name>/<version>.jinja. */
function promptFrom(
  facts: SeedFacts,
  levels: readonly string[],
  take: (path: string) => unknown,
  mapped: MappedKey[],
  unmapped: UnmappedKey[],
): { section: Section; template: SeedConversion['template'] } {
  take('prompt.registry_dir');
  const name = take('prompt.name');
  const file = take('prompt.template_file');
  const promptName = typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name) ? name : 'prompt';
  const version =
    typeof file === 'string' ? (file.split(/[\\/]/).at(-1) ?? 'v1').replace(/(\.[A-Za-z0-9]+)+$/, '') : 'v1';
  const safeVersion = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(version) ? version : 'v1';
  const section = { dir: 'prompts', name: promptName, version: safeVersion };
  if (!facts.template) {
    unmapped.push({
      key: 'prompt.template_file',
      reason: `template not found under prompt.registry_dir; write your template at prompts/${promptName}/${safeVersion}.jinja`,
    });
    return { section, template: null };
  }
  const header = templateHeader(facts.template.text, levels);
  mapped.push({
    from: 'prompt.registry_dir + name + template_file',
    to: 'prompt',
    value: `prompts/${promptName}/${safeVersion}.jinja`,
    note: `copied from ${facts.template.path}${header.names.length > 0 ? `; its variables ${header.names.join(', ')} are set from wavebatch's record and context at the top` : ''}`,
  });
  return {
    section,
    template: { name: promptName, version: safeVersion, text: `${header.text}${facts.template.text}` },
  };
}

/** `{% set %}` lines giving the seed template the variables it uses, from wavebatch's `record`/`context`. */
function templateHeader(text: string, levels: readonly string[]): { text: string; names: string[] } {
  const sources: Record<string, string> = { ...TEMPLATE_VARIABLES };
  for (const level of levels) sources[level] = `record.${level}`;
  // Only what the template's tags use: `page` in its prose is not the variable `page`.
  const tags = (text.match(/{{[^}]*}}|{%[^%]*%}/g) ?? []).join(' ');
  const names = Object.keys(sources).filter((variable) => new RegExp(`\\b${variable}\\b`).test(tags));
  if (names.length === 0) return { text: '', names };
  const lines = names.map((variable) => `{%- set ${variable} = ${sources[variable]} %}`);
  return {
    text: `{#- Added by wavebatch init: the seed template's variables, from wavebatch's record and context. #}\n${lines.join('\n')}\n`,
    names,
  };
}

/** The levels of `--log-level`; the seed's (INFO, WARN, …) are the same words in capitals. */
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

/** Braintrust logging is set in the environment, never in the config. */
const BRAINTRUST_README = 'README "Logging inferences to Braintrust"';

function reasonFor(key: string, value: unknown): string {
  switch (key) {
    case 'paths.label_source_dir':
      return 'wavebatch reads the page images as its records and has no use for evaluation labels; keep them for your own checks';
    // These three have equivalents outside the config: "no wavebatch equivalent" sent users looking for none.
    case 'execution.dry_run':
      return 'not a config key: `wavebatch run --dry-run` prints what a run would send and cost and sends nothing; `wavebatch estimate` prices the whole workload';
    case 'logging.level': {
      const level = typeof value === 'string' ? value.toLowerCase() : '';
      const setting = LOG_LEVELS.includes(level) ? level : '<level>';
      return `not a config key: \`wavebatch run --log-level ${setting}\` (debug, info, warn or error), or WAVEBATCH_LOG_LEVEL=${setting} in the environment`;
    }
    case 'paths.log_dir':
      return "not a config key: a run logs to standard error (`wavebatch run 2>> run.log`); every attempt is kept in the state store's inference log (`wavebatch log`) and each run's report in <data_dir>/reports/";
    case 'braintrust.project': {
      // A project name is no secret, and naming it gives a line to paste; anything odder is not repeated.
      const project = typeof value === 'string' && /^[\w.-]+$/.test(value) ? value : '<project>';
      return (
        `not a config key: wavebatch logs every inference to Braintrust with BRAINTRUST_PROJECT=${project} ` +
        `and BRAINTRUST_API_KEY set in the environment (and the optional braintrust package installed); ${BRAINTRUST_README}`
      );
    }
    default:
      return 'no wavebatch equivalent';
  }
}

function isSection(value: unknown): value is Section {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lookup(data: Section, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.')) {
    if (!isSection(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** Dot paths of every leaf (a scalar or a list) of the seed config. */
function leafKeys(data: Section, prefix = ''): string[] {
  return Object.entries(data).flatMap(([key, value]) =>
    isSection(value) ? leafKeys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}
