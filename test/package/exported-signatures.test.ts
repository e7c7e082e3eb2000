import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from './installed-package.js';

const ENTRY = join(REPO, 'src', 'index.ts');
const SOURCES = join(REPO, 'src');

/**
 * Declared in the package but not exported from its entry (or `any`): every type a public signature of the
 * entry's exports names (a parameter, a return, a property, an extended interface), followed from
 * type to type, with where it was met. Internals behind the store and the runner's constructor
 * (SqliteStore, WorkloadStore, BatchRunner's options) are the package's own and not followed.
 */
function unexportedSignatureTypes(): string[] {
  const program = ts.createProgram([ENTRY], {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const entry = program.getSourceFile(ENTRY);
  const module = entry && checker.getSymbolAtLocation(entry);
  if (!module) throw new Error(`cannot read ${ENTRY}`);
  const resolved = (symbol: ts.Symbol) =>
    symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const exported = new Set(checker.getExportsOfModule(module).map(resolved));
  const internal = new Set(['SqliteStore', 'WorkloadStore']);
  const missing = new Set<string>();
  const seen = new Set<ts.Symbol>();

  const visitType = (node: ts.Node | undefined, from: string): void => {
    if (!node) return;
    if (node.kind === ts.SyntaxKind.AnyKeyword) missing.add(`any, in ${from}`);
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
      const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
      const symbol = checker.getSymbolAtLocation(name);
      if (symbol) follow(resolved(symbol), from);
    }
    // `typeof X` in a type names a value (a constant's type): not a type the user must import.
    if (ts.isTypeQueryNode(node)) return;
    ts.forEachChild(node, (child) => visitType(child, from));
  };
  const visitSignature = (node: ts.SignatureDeclaration, from: string) => {
    node.typeParameters?.forEach((parameter) => visitType(parameter, from));
    node.parameters.forEach((parameter) => visitType(parameter.type, from));
    visitType(node.type, from);
  };
  const isHidden = (member: ts.ClassElement) =>
    (member.name !== undefined && ts.isPrivateIdentifier(member.name)) ||
    (ts.getCombinedModifierFlags(member as ts.Declaration) &
      (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !==
      0;
  const visitDeclaration = (declaration: ts.Declaration, name: string) => {
    if (ts.isFunctionDeclaration(declaration)) return visitSignature(declaration, name);
    if (ts.isClassDeclaration(declaration)) {
      declaration.heritageClauses?.forEach((clause) => visitType(clause, name));
      for (const member of declaration.members) {
        // The runner's constructor takes its wiring (openWorkloadSession builds it): internal.
        if (isHidden(member) || (ts.isConstructorDeclaration(member) && name === 'BatchRunner')) continue;
        if (ts.isMethodDeclaration(member) || ts.isConstructorDeclaration(member) || ts.isGetAccessor(member))
          visitSignature(member, name);
        else if (ts.isPropertyDeclaration(member)) visitType(member.type, name);
      }
      return;
    }
    if (ts.isVariableDeclaration(declaration)) return visitType(declaration.type, name);
    if (ts.isInterfaceDeclaration(declaration) || ts.isTypeAliasDeclaration(declaration))
      visitType(declaration, name);
  };
  function follow(symbol: ts.Symbol, from: string): void {
    const declaration = symbol.declarations?.[0];
    if (!declaration || symbol.flags & ts.SymbolFlags.TypeParameter) return;
    const file = declaration.getSourceFile().fileName;
    if (!file.startsWith(SOURCES) || internal.has(symbol.name)) return;
    if (!exported.has(symbol)) missing.add(`${symbol.name} (${file.slice(SOURCES.length + 1)}), in ${from}`);
    if (seen.has(symbol)) return;
    seen.add(symbol);
    for (const each of symbol.declarations ?? []) visitDeclaration(each, symbol.name);
  }
  for (const symbol of exported) if (!internal.has(symbol.name)) follow(symbol, symbol.name);
  return [...missing].sort();
}

// A TypeScript user names the types of what they pass and get back: createGeminiClient's options,
// loadPrompt's template, the emulator's per-model quotas and a lane decision's reason were declared
// but not exported, so `import type { GeminiClientOptions } from 'wavebatch'` failed.
describe("the types in the entry's public signatures", () => {
  it('are all exported from the entry, and none is any', () => {
    expect(unexportedSignatureTypes()).toEqual([]);
  }, 60_000);
});
