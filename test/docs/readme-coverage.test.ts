import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { allCommands } from '../../src/cli/command-modules.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { configSchema } from '../../src/config/schema.js';

// The README is the user's manual: every config key, command, flag, error code and environment
// variable the code has must be named in it, and what it names must exist. Each list is read from
// the code itself (the zod schema, the commander commands, the error classes' `code`, `process.env`
// reads), so a key, flag or code added without a word in the README fails here.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

type JsonSchema = {
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

/** A config key as a list of spellings: any one of them in the README names it. `*` is any name. */
type KeyRequirement = string[][];

/**
 * The config's keys, read from the zod schema through its JSON Schema (hooks and function sources
 * kept: a TypeScript config has them). Sibling keys of one shape (the four lanes under a model's
 * `pricing:`) each need naming, but the keys inside them only once, under any of the siblings.
 */
function configKeys(): KeyRequirement[] {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  const resolve = (schema: JsonSchema): JsonSchema =>
    schema.$ref ? (root.$defs?.[schema.$ref.split('/').pop() ?? ''] ?? {}) : schema;
  /** The keys below `schema` (each of its union's options), by name: their schemas. */
  function children(schema: JsonSchema, seen: Set<JsonSchema>): Map<string, JsonSchema[]> {
    const found = new Map<string, JsonSchema[]>();
    const visit = (node: JsonSchema) => {
      const resolved = resolve(node);
      if (seen.has(resolved)) return;
      for (const [name, child] of Object.entries(resolved.properties ?? {}))
        found.set(name, [...(found.get(name) ?? []), resolve(child)]);
      if (typeof resolved.additionalProperties === 'object')
        found.set('*', [...(found.get('*') ?? []), resolve(resolved.additionalProperties)]);
      for (const option of [...(resolved.anyOf ?? []), ...(resolved.oneOf ?? []), ...(resolved.allOf ?? [])])
        visit(option);
    };
    visit(schema);
    return found;
  }
  function walk(schema: JsonSchema, seen: Set<JsonSchema>): KeyRequirement[] {
    const below = children(schema, seen);
    const inner = new Set([...seen, resolve(schema)]);
    const shapes = new Map<string, string[]>();
    for (const [name, schemas] of below) {
      const shape = JSON.stringify(schemas);
      shapes.set(shape, [...(shapes.get(shape) ?? []), name]);
    }
    const requirements: KeyRequirement[] = [];
    for (const names of shapes.values()) {
      for (const name of names) requirements.push([[name]]);
      const deeper = (below.get(names[0] ?? '') ?? []).flatMap((child) => walk(child, inner));
      for (const requirement of deeper)
        requirements.push(names.flatMap((name) => requirement.map((path) => [name, ...path])));
    }
    return requirements;
  }
  const unique = new Map(
    walk(root, new Set()).map((requirement) => [JSON.stringify(requirement), requirement]),
  );
  return [...unique.values()];
}

/** Every key path of a parsed YAML value. */
function yamlPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...prefix, key],
    ...yamlPaths(child, [...prefix, key]),
  ]);
}

/** The key paths the README names: its YAML examples' keys, and dotted paths in code spans (`a.<model>.b`). */
function readmeKeyPaths(): { fromYaml: string[][]; fromText: string[][] } {
  const blocks = [...README.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => parse(match[1] ?? ''));
  const spans = [...README.matchAll(/`([a-z_]+(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|<[a-z_ -]+>))+)/g)];
  return {
    fromYaml: blocks.flatMap((block) => yamlPaths(block)),
    // `hooks.source` names `hooks` too.
    fromText: spans.flatMap((match) => {
      const path = (match[1] ?? '').split('.');
      return path.map((_, end) => path.slice(0, end + 1));
    }),
  };
}

function pathMatches(schemaPath: string[], named: string[]): boolean {
  return (
    schemaPath.length === named.length &&
    schemaPath.every((segment, index) => segment === '*' || segment === named[index])
  );
}

/** The README's section of every command and its flags: "### Commands" up to the next heading. */
function commandSection(): string {
  const start = README.indexOf('\n### Commands\n');
  return start === -1 ? '' : README.slice(start, README.indexOf('\n#', start + 2));
}

/** The row of a command in the README's command table, `| \`wavebatch <name> …\` | … |`. */
function commandRow(name: string): string | undefined {
  return commandSection()
    .split('\n')
    .find((line) => line.startsWith(`| \`wavebatch ${name}`) && /^[ `]/.test(line.slice(13 + name.length)));
}

function commandsByName(commands: readonly Command[], prefix = ''): Map<string, Command> {
  const named = new Map<string, Command>();
  for (const command of commands) {
    const name = `${prefix}${command.name()}`;
    if (command.commands.length === 0 || command.options.length > 0) named.set(name, command);
    for (const [sub, subcommand] of commandsByName(command.commands, `${name} `)) named.set(sub, subcommand);
  }
  return named;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/**
 * The codes of every class that extends WavebatchError (directly or through another), read from the
 * source: a `code` property (or constructor parameter) set to a string, or typed as a union of
 * strings, written in place or as a type alias of the same file.
 */
function errorCodes(): Map<string, string[]> {
  const classes = new Map<string, { base: string; codes: string[] | null; file: string }>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const aliases = new Map<string, ts.TypeNode>();
    const literals = (type: ts.TypeNode | undefined): string[] | null => {
      if (!type) return null;
      if (ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal)) return [type.literal.text];
      if (ts.isUnionTypeNode(type)) {
        const parts = type.types.map(literals);
        return parts.every((part) => part !== null) ? parts.flat() : null;
      }
      if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName))
        return literals(aliases.get(type.typeName.text));
      return null;
    };
    source.forEachChild((node) => {
      if (ts.isTypeAliasDeclaration(node)) aliases.set(node.name.text, node.type);
    });
    source.forEachChild((node) => {
      if (!ts.isClassDeclaration(node) || !node.name || node.name.text === 'WavebatchError') return;
      const base = node.heritageClauses?.[0]?.types[0]?.expression.getText(source) ?? '';
      let codes: string[] | null = null;
      const members: (ts.PropertyDeclaration | ts.ParameterDeclaration)[] = [
        ...node.members.filter(ts.isPropertyDeclaration),
        // A constructor parameter is a property only with a modifier (`readonly code: …`).
        ...node.members
          .filter(ts.isConstructorDeclaration)
          .flatMap((constructor) =>
            constructor.parameters.filter((parameter) => parameter.modifiers?.length),
          ),
      ];
      for (const member of members) {
        if (member.name.getText(source) !== 'code') continue;
        const initial = member.initializer;
        const initialCode =
          initial && ts.isAsExpression(initial) ? initial.expression : (initial as ts.Expression | undefined);
        codes =
          literals(member.type) ??
          (initialCode && ts.isStringLiteral(initialCode) ? [initialCode.text] : null);
        if (codes === null) throw new Error(`cannot read the codes of ${node.name.text} (${file})`);
      }
      classes.set(node.name.text, { base, codes, file });
    });
  }
  const byCode = new Map<string, string[]>();
  const extendsBase = (name: string): boolean =>
    name === 'WavebatchError' || (classes.has(name) && extendsBase(classes.get(name)?.base ?? ''));
  for (const [name, { base, codes }] of classes) {
    if (name === 'WavebatchError' || !extendsBase(base)) continue;
    for (const code of codes ?? []) byCode.set(code, [...(byCode.get(code) ?? []), name]);
  }
  return byCode;
}

/** The README's table of error codes: the lines after "**Error codes.**" up to the next heading. */
function errorCodeTable(): string {
  const start = README.indexOf('**Error codes.**');
  return README.slice(start, README.indexOf('\n#', start));
}

describe('the README names everything the code has', () => {
  it('names every config key (in a YAML example or as a dotted path), and no key the schema lacks', () => {
    const { fromYaml, fromText } = readmeKeyPaths();
    const named = [...fromYaml, ...fromText];
    const keys = configKeys();
    // A name of the user's (a model under `pricing:`) is no key to name.
    const missing = keys
      .filter((spellings) => spellings.some((path) => path.at(-1) !== '*'))
      .filter((spellings) => !spellings.some((path) => named.some((name) => pathMatches(path, name))))
      .map((spellings) => (spellings[0] ?? []).join('.'));
    expect(missing, 'config keys the README does not name').toEqual([]);
    const all = keys.flat();
    const unknown = fromYaml
      .filter((name) => !all.some((path) => pathMatches(path, name)))
      .map((name) => name.join('.'));
    expect(unknown, "keys of the README's YAML examples that the config schema does not have").toEqual([]);
  });

  it("shows each key's default in the wavebatch.yaml example, where the key has one", () => {
    const [example] = [...README.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map(
      (match) => parse(match[1] ?? '') as Record<string, unknown>,
    );
    expect(example?.name).toBeDefined();
    const { name, source, prompt, model } = example ?? {};
    // The example parsed, against the same example's required keys alone: what the schema fills in.
    const shown = configSchema.parse(example) as unknown;
    const defaults = configSchema.parse({ name, source, prompt, model }) as unknown;
    const differing: string[] = [];
    const compare = (raw: unknown, value: unknown, fallback: unknown, path: string) => {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
        for (const [key, child] of Object.entries(raw))
          compare(
            child,
            (value as Record<string, unknown>)?.[key],
            (fallback as Record<string, unknown>)?.[key],
            `${path}${key}.`,
          );
      } else if (fallback !== undefined && JSON.stringify(value) !== JSON.stringify(fallback))
        differing.push(`${path.slice(0, -1)}: ${JSON.stringify(raw)}, default ${JSON.stringify(fallback)}`);
    };
    compare(example, shown, defaults, '');
    expect(differing).toEqual([]);
  });

  it('lists every command in its command table, with every flag and its default, and no flag the command lacks', async () => {
    const commands = commandsByName(await allCommands());
    const problems: string[] = [];
    for (const [name, command] of commands) {
      const row = commandRow(name);
      if (!row) {
        problems.push(`no row for wavebatch ${name}`);
        continue;
      }
      const options = command.options.filter((option) => !option.hidden);
      for (const option of options) {
        const flag = option.long ?? option.short ?? option.flags;
        const entry = `\`(-\\w, )?${escaped(flag)}( [^\`]*)?\``;
        if (!new RegExp(entry).test(row)) problems.push(`${name}: ${flag} not in its row`);
        const withDefault = `${entry}( \\([^)]*\\))? \\(default \`${escaped(String(option.defaultValue))}\`\\)`;
        if (option.defaultValue !== undefined && !new RegExp(withDefault).test(row))
          problems.push(`${name}: ${flag}'s default ${String(option.defaultValue)} not in its row`);
      }
      const cells = row.split(/(?<!\\)\|/);
      for (const [, flag] of (cells[3] ?? '').matchAll(/`(?:-\w, )?(--[a-z-]+|-\w)/g))
        if (!options.some((option) => option.long === flag || option.short === flag))
          problems.push(`${name}: the README names ${flag ?? ''}, which it does not have`);
    }
    for (const [, name] of commandSection().matchAll(/^\| `wavebatch ([a-z-]+(?: [a-z-]+)?)[ `<[]/gm))
      if (!commands.has(name ?? ''))
        problems.push(`the table names wavebatch ${name ?? ''}, which does not exist`);
    expect(problems).toEqual([]);
  });

  it('lists every error code in its error-code table, and no code the code lacks', () => {
    const codes = errorCodes();
    expect(codes.size).toBeGreaterThan(50);
    const table = errorCodeTable();
    // The codes are the rows' first cells; the other cells may name other things (GEMINI_API_KEY).
    const firstCells = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split(' | ')[0] ?? '');
    const listed = new Set(
      firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1])),
    );
    const missing = [...codes.keys()].filter((code) => !listed.has(code)).sort();
    expect(missing, 'error codes the README table does not list').toEqual([]);
    const unknown = [...listed].filter((code) => code && !codes.has(code)).sort();
    expect(unknown, 'codes the README table lists that no error has').toEqual([]);
  });

  it('lists every exit code in its exit-code table, and no other', () => {
    const start = README.indexOf('\n### Exit codes\n');
    const table = README.slice(start, README.indexOf('**Error codes.**', start));
    const listed = [...table.matchAll(/^\| (\d+) +\|/gm)].map((match) => Number(match[1]));
    expect(listed).toEqual(Object.values(ExitCode));
  });

  it('names every environment variable src/ reads', () => {
    const read = new Set<string>();
    for (const file of sourceFiles(join(ROOT, 'src')))
      for (const [, name] of readFileSync(file, 'utf8').matchAll(/\benv(?:\.|\[['"])([A-Z][A-Z0-9_]+)/g))
        read.add(name ?? '');
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((name) => !README.includes(name)).sort()).toEqual([]);
  });
});

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
