import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listVersions, loadPrompt, PromptError, renderedHash } from '../../src/prompts/index.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'catalogs', 'prompts');

describe('prompt registry', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-prompts-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(path: string, text: string): void {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
  }

  async function promptError(promise: Promise<unknown>): Promise<PromptError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PromptError);
    return error as PromptError;
  }

  it('renders the example catalog prompt with record vars, and the context branch only when there is context', async () => {
    const prompt = await loadPrompt(EXAMPLES, 'catalog_page', 'v1');
    const record = { page: 3, year: 1901, school: 'harvard', state: 'MA' };
    const first = prompt.render({ record, context: null });
    expect(first.text).toContain('page 3 of the 1901 course catalog of harvard (MA)');
    expect(first.text).toContain('This is the first page of the catalog.');
    expect(first.text).not.toContain('The previous page ended');
    expect(first.system).toMatch(/^You are a careful archivist/);
    const next = prompt.render({ record, context: 'LATIN 101 — Elementary Latin, continued' });
    expect(next.text).toContain('The previous page ended with this unfinished entry');
    expect(next.text).toContain('LATIN 101 — Elementary Latin, continued');
    expect(next.text).not.toContain('first page');
    expect(prompt).toMatchObject({ name: 'catalog_page', version: 'v1' });
    expect(prompt.templateHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the rendered system + text: stable for the same input, different when the input or the version changes', async () => {
    file('p/v1.jinja', 'Summarise {{ record.title }}.');
    file('p/v2.jinja', 'Summarise {{ record.title }} briefly.');
    const v1 = await loadPrompt(dir, 'p', 'v1');
    const again = await loadPrompt(dir, 'p', 'v1');
    const v2 = await loadPrompt(dir, 'p', 'v2');
    const a = v1.render({ record: { title: 'A' }, context: null });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(again.render({ record: { title: 'A' }, context: null }).hash).toBe(a.hash);
    expect(v1.render({ record: { title: 'B' }, context: null }).hash).not.toBe(a.hash);
    expect(v2.render({ record: { title: 'A' }, context: null }).hash).not.toBe(a.hash);
    expect(a.hash).toBe(renderedHash(null, 'Summarise A.'));
    expect(again.templateHash).toBe(v1.templateHash);
    expect(v2.templateHash).not.toBe(v1.templateHash);
    // The system instruction is part of what was sent, so it is part of the hash.
    expect(renderedHash('be terse', 'Summarise A.')).not.toBe(a.hash);
  });

  it('picks <version>.system.jinja over the shared system.jinja, and renders variables into it', async () => {
    file('p/v1.jinja', 'one');
    file('p/v2.jinja', 'two');
    file('p/system.jinja', 'Shared system for {{ record.school }}.\n');
    file('p/v2.system.jinja', 'Version 2 system.');
    const v1 = (await loadPrompt(dir, 'p', 'v1')).render({ record: { school: 'yale' }, context: null });
    const v2 = (await loadPrompt(dir, 'p', 'v2')).render({ record: { school: 'yale' }, context: null });
    expect(v1.system).toBe('Shared system for yale.');
    expect(v2.system).toBe('Version 2 system.');
    file('q/v1.jinja', 'no system');
    expect((await loadPrompt(dir, 'q', 'v1')).render({ record: {}, context: null }).system).toBeNull();
  });

  it('behaves like Jinja: no escaping, undefined renders empty, one trailing newline dropped, tojson with sorted keys', async () => {
    file(
      'p/v1.jinja',
      '<{{ record.html }}>[{{ record.missing }}][{{ nothing.at.all }}]\n{{ context | tojson }}\n',
    );
    const prompt = await loadPrompt(dir, 'p', 'v1');
    const rendered = prompt.render({
      record: { html: 'a & "b" <c>' },
      context: { z: 1, a: { y: [1, 'two'], b: null } },
    });
    expect(rendered.text).toBe('<a & "b" <c>>[][]\n{"a":{"b":null,"y":[1,"two"]},"z":1}');
    expect(prompt.render({ record: {}, context: null }).text).toBe('<>[][]\nnull');
    file('p/v2.jinja', '{{ context | tojson(2) }}');
    expect((await loadPrompt(dir, 'p', 'v2')).render({ record: {}, context: { b: 1 } }).text).toBe(
      '{\n  "b": 1\n}',
    );
    file(
      'p/v3.jinja',
      '{% if record.flag == True %}yes{% endif %}{% if context is none and context == None %}-none{% endif %}{{ False }}',
    );
    expect((await loadPrompt(dir, 'p', 'v3')).render({ record: { flag: true }, context: null }).text).toBe(
      'yes-nonefalse',
    );
  });

  it('resolves {% include %} and {% extends %} inside the prompt folder', async () => {
    file('p/partials/rules.jinja', 'Rules for {{ record.school }}.\n');
    file('p/base.jinja', 'HEAD\n{% block body %}{% endblock %}\nTAIL');
    file('p/v1.jinja', '{% include "partials/rules.jinja" %}\nDo page {{ record.page }}.');
    file('p/v2.jinja', '{% extends "base.jinja" %}{% block body %}Body {{ record.page }}{% endblock %}');
    expect(
      (await loadPrompt(dir, 'p', 'v1')).render({ record: { school: 'mit', page: 2 }, context: null }).text,
    ).toBe('Rules for mit.\nDo page 2.');
    expect((await loadPrompt(dir, 'p', 'v2')).render({ record: { page: 7 }, context: null }).text).toBe(
      'HEAD\nBody 7\nTAIL',
    );
  });

  it('refuses includes that leave the prompt folder', async () => {
    file('secret.jinja', 'TOP SECRET');
    file('p/v1.jinja', '{% include "../secret.jinja" %}');
    file('p/v2.jinja', `{% include "${join(dir, 'secret.jinja')}" %}`);
    file('p/v3.jinja', '{% include record.file %}');
    for (const version of ['v1', 'v2']) {
      const error = await promptError(loadPrompt(dir, 'p', version));
      expect(error.message).toMatch(/outside the prompt folder/);
    }
    const dynamic = await loadPrompt(dir, 'p', 'v3');
    expect(() => dynamic.render({ record: { file: '../secret.jinja' }, context: null })).toThrow(
      /outside the prompt folder/,
    );
  });

  it('lists the versions that exist when one is missing', async () => {
    file('p/v1.jinja', 'a');
    file('p/v10.jinja', 'b');
    file('p/v2.jinja', 'c');
    file('p/system.jinja', 's');
    file('p/v2.system.jinja', 's2');
    const error = await promptError(loadPrompt(dir, 'p', 'v3'));
    expect(error.code).toBe('PROMPT_NOT_FOUND');
    expect(error.message).toContain('existing versions: v1, v2, v10.');
    expect(await listVersions(dir, 'p')).toEqual(['v1', 'v2', 'v10']);
    const unknown = await promptError(loadPrompt(dir, 'nope', 'v1'));
    expect(unknown.code).toBe('PROMPT_NOT_FOUND');
    expect(unknown.message).toContain(`prompts in ${dir}: p`);
  });

  it('reports syntax errors at load, naming the file and the line', async () => {
    file('p/v1.jinja', 'line one\nline two\n{% if record.page %}\n{{ record.page + }}\n{% endif %}\n');
    const error = await promptError(loadPrompt(dir, 'p', 'v1'));
    expect(error.code).toBe('PROMPT_SYNTAX');
    expect(error.message).toContain(join(dir, 'p', 'v1.jinja'));
    expect(error.message).toContain('line 4');
    file('p/v2.jinja', 'fine\n{% include "broken.jinja" %}');
    file('p/broken.jinja', 'ok\n{% for x in %}');
    const included = await promptError(loadPrompt(dir, 'p', 'v2'));
    expect(included.code).toBe('PROMPT_SYNTAX');
    expect(included.message).toMatch(/broken\.jinja at line 2/);
    file('q/v1.jinja', 'fine');
    file('q/system.jinja', '{% endif %}');
    expect((await promptError(loadPrompt(dir, 'q', 'v1'))).message).toContain(join(dir, 'q', 'system.jinja'));
  });

  it('turns render failures into PROMPT_RENDER naming the template', async () => {
    file('p/v1.jinja', 'Hello {{ record.name | nosuchfilter }}');
    file('p/v2.jinja', 'Hello {{ shout(record.name) }}');
    const unknownFilter = await promptError(loadPrompt(dir, 'p', 'v1'));
    expect(unknownFilter.code).toBe('PROMPT_SYNTAX');
    expect(unknownFilter.message).toContain('unknown filter "nosuchfilter"');
    expect(unknownFilter.message).toContain('line 1');
    const prompt = await loadPrompt(dir, 'p', 'v2');
    let caught: unknown;
    try {
      prompt.render({ record: { name: 'x' }, context: null });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PromptError);
    expect((caught as PromptError).code).toBe('PROMPT_RENDER');
    expect((caught as PromptError).message).toContain('p/v2');
    expect((caught as PromptError).message).toContain(join(dir, 'p', 'v2.jinja'));
  });

  it('rejects names and versions that are not plain path segments', async () => {
    file('p/v1.jinja', 'a');
    file('p/system.jinja', 's');
    file('p/v1.system.jinja', 's');
    const hostile: Array<[string, string]> = [
      ['..', 'v1'],
      ['../p', 'v1'],
      ['p', '../p/v1'],
      ['p/..', 'v1'],
      ['p', 'v1/../v1'],
      ['/etc', 'passwd'],
      ['p', 'a\\b'],
      ['p', ''],
      ['', 'v1'],
      ['p', '.hidden'],
      ['p', 'v1\0'],
      ['p', 'system'],
      ['p', 'v1.system'],
      ['p', 'x'.repeat(101)],
    ];
    for (const [name, version] of hostile) {
      const error = await promptError(loadPrompt(dir, name, version));
      expect(error.code, `${name} / ${version}`).toBe('PROMPT_NAME_INVALID');
    }
  });
});
