import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPrompt, PromptError } from '../../src/prompts/index.js';

// Templates are code, trusted like the config; still, none may reach JavaScript's Function
// constructor (and so process.env and the API key). Record data is data: never run as a template.
describe('prompt templates', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-template-safety-'));
    vi.stubEnv('WB_TEMPLATE_SECRET', 'sekrit-0f9e8d');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  async function prompt(source: string) {
    mkdirSync(join(dir, 'p'), { recursive: true });
    writeFileSync(join(dir, 'p', 'v1.jinja'), source);
    return loadPrompt(dir, 'p', 'v1');
  }

  it('cannot read the environment through a constructor chain, however it is spelled', async () => {
    const escapes = [
      '{{ "".constructor.constructor("return process.env.WB_TEMPLATE_SECRET")() }}',
      '{{ ""["constructor"]["constructor"]("return process.env.WB_TEMPLATE_SECRET")() }}',
      '{% set c = "construct" ~ "or" %}{{ range[c]("return process.env.WB_TEMPLATE_SECRET")() }}',
      '{{ record.constructor.constructor("return process.env.WB_TEMPLATE_SECRET")() }}',
      '{{ cycler.__proto__.constructor("return process.env.WB_TEMPLATE_SECRET")() }}',
    ];
    for (const source of escapes) {
      const template = await prompt(source);
      let error: unknown;
      try {
        template.render({ record: { a: 1 }, context: null });
      } catch (caught) {
        error = caught;
      }
      expect(error, source).toBeInstanceOf(PromptError);
      expect((error as PromptError).code).toBe('PROMPT_RENDER');
      expect((error as Error).message).toContain('templates may not read');
      expect((error as Error).message).not.toContain('sekrit');
    }
  });

  it('leaves nunjucks alone outside wavebatch renders, and ordinary lookups working inside them', async () => {
    const plain = new nunjucks.Environment(null).renderString(
      '{{ "".constructor.constructor("return 6 * 7")() }}',
      {},
    );
    expect(plain).toBe('42');
    const template = await prompt('{{ record.title | upper }} {{ record.tags[1] }} {{ context.n }}');
    expect(template.render({ record: { title: 'x', tags: ['a', 'b'] }, context: { n: 2 } }).text).toBe(
      'X b 2',
    );
  });

  it('renders record values and context literally: data is never evaluated as a template', async () => {
    const template = await prompt('Title: {{ record.title }} | Context: {{ context | tojson }}');
    const hostile = '{{ 7 * 7 }} {% include "v1.jinja" %} {{ "".constructor }}';
    const rendered = template.render({ record: { title: hostile }, context: { note: hostile } });
    expect(rendered.text).toBe(`Title: ${hostile} | Context: ${JSON.stringify({ note: hostile })}`);
  });

  function renderError(template: Awaited<ReturnType<typeof prompt>>, record: Record<string, unknown> = {}) {
    try {
      template.render({ record, context: null });
    } catch (error) {
      expect(error).toBeInstanceOf(PromptError);
      expect((error as PromptError).code).toBe('PROMPT_RENDER');
      return (error as PromptError).message;
    }
    throw new Error('the template rendered');
  }

  it('fails a render that loops too long, builds a huge range or output, instead of running for hours', async () => {
    // Before: 20,000 x 20,000 steps ran for hours (a render cannot be interrupted), range(100000000)
    // took a minute and 2 GB before its first step, and a billion crashed Node.
    const started = Date.now();
    const nested = await prompt(
      '{% for a in range(20000) %}{% for b in range(20000) %}{% endfor %}{% endfor %}',
    );
    expect(renderError(nested)).toContain('the template took more than 10000000 loop steps');
    const range = await prompt('{% for i in range(1000000000) %}{% endfor %}');
    expect(renderError(range)).toContain('range(1000000000) has more than 10000000 numbers');
    const output = await prompt('{% for i in range(1000000) %}{{ record.text }}{% endfor %}');
    expect(renderError(output, { text: 'x'.repeat(100) })).toContain(
      'the template produced more than 67108864 characters',
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    // The budget is per render, and ordinary loops (range's forms included) render as before.
    const loops = await prompt(
      '{% for i in range(3) %}{{ i }}{% endfor %}|{{ range(5, 0, -2) | join(",") }}|{{ range(1, 3) | join(",") }}',
    );
    for (let round = 0; round < 3; round++)
      expect(loops.render({ record: {}, context: null }).text).toBe('012|5,3,1|1,2');
  }, 60_000);

  it('fails a template that includes itself with a short message saying so', async () => {
    // Each include level wrapped the error again: the message was 4 MB, stored and printed per record.
    const message = renderError(await prompt('x{% include "v1.jinja" %}'));
    expect(message.length).toBeLessThan(500);
    expect(message).toContain('templates include or call each other too deeply');
  });

  it('refuses an include that a symbolic link in the prompt folder leads out of it, by name or by a record value', async () => {
    // Before, only the written name was checked: the link's target (another prompt, /etc/passwd,
    // a key file) was read into the prompt and sent.
    writeFileSync(join(dir, 'outside.txt'), 'OUTSIDE-the-prompt-folder');
    mkdirSync(join(dir, 'p'), { recursive: true });
    symlinkSync(join(dir, 'outside.txt'), join(dir, 'p', 'shared.jinja'));
    writeFileSync(join(dir, 'p', 'inside.jinja'), 'inside');
    symlinkSync(join(dir, 'p', 'inside.jinja'), join(dir, 'p', 'alias.jinja'));
    const literal = await prompt('{% include "shared.jinja" %}').catch((error: unknown) => error);
    expect(literal).toBeInstanceOf(PromptError);
    expect((literal as Error).message).toContain('"shared.jinja" is outside the prompt folder');
    const chosen = await prompt('{% include record.part %}');
    const message = renderError(chosen, { part: 'shared.jinja' });
    expect(message).toContain('"shared.jinja" is outside the prompt folder');
    expect(message).not.toContain('OUTSIDE-the-prompt');
    // A link that stays inside is followed.
    expect(chosen.render({ record: { part: 'alias.jinja' }, context: null }).text).toBe('inside');
  });
});
