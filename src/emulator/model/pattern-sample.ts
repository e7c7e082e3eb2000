import { pick, type Random } from '../seeded-random.js';

/**
 * A small generator for the regular expressions found in response schemas (`pattern`): literals,
 * escapes (\d \w \s and their negations), classes with ranges and negation, `.`, groups,
 * alternation and quantifiers. Lookarounds, backreferences and \p{..} are beyond it: the caller
 * then keeps its plain string. Wherever a class allows, characters are taken from the digest and
 * the label, so generated values still reveal the prompt they came from.
 */

type Node =
  | { kind: 'sequence'; items: Node[] }
  | { kind: 'alternation'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number | undefined }
  | { kind: 'set'; members: string[] };

class Unsupported extends Error {}

/** Characters a class or `.` may produce: printable ASCII and the middle dot used in labels. */
const UNIVERSE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).concat('·');

const DIGITS = UNIVERSE.filter((c) => /\d/.test(c));
const WORD = UNIVERSE.filter((c) => /\w/.test(c));
const SPACE = [' ', '\t', '\n'];

function escapeMembers(letter: string): string[] | undefined {
  switch (letter) {
    case 'd':
      return DIGITS;
    case 'D':
      return UNIVERSE.filter((c) => !DIGITS.includes(c));
    case 'w':
      return WORD;
    case 'W':
      return UNIVERSE.filter((c) => !WORD.includes(c));
    case 's':
      return SPACE;
    case 'S':
      return UNIVERSE.filter((c) => c !== ' ');
    case 't':
      return ['\t'];
    case 'n':
      return ['\n'];
    case 'r':
      return ['\r'];
    default:
      if (/[pPkbB1-9]/.test(letter)) throw new Unsupported(`\\${letter}`);
      return [letter];
  }
}

class Parser {
  private at = 0;
  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.at < this.source.length) throw new Unsupported(`unexpected ${this.source[this.at]}`);
    return node;
  }

  private peek(): string | undefined {
    return this.source[this.at];
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.at++;
      options.push(this.sequence());
    }
    return options.length === 1 ? (options[0] as Node) : { kind: 'alternation', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      if (c === '^' || c === '$') {
        this.at++;
        continue;
      }
      items.push(this.quantified(this.atom()));
    }
    return { kind: 'sequence', items };
  }

  private atom(): Node {
    const c = this.source[this.at++];
    if (c === '(') {
      if (this.source.startsWith('?:', this.at)) this.at += 2;
      else if (this.peek() === '?') throw new Unsupported('lookaround or named group');
      const inner = this.alternation();
      if (this.source[this.at++] !== ')') throw new Unsupported('unclosed group');
      return inner;
    }
    if (c === '[') return { kind: 'set', members: this.characterClass() };
    if (c === '.') return { kind: 'set', members: UNIVERSE.filter((m) => m !== '\n') };
    if (c === '\\') return { kind: 'set', members: this.escape() };
    if (c === undefined || c === '*' || c === '+' || c === '?' || c === '{')
      throw new Unsupported(`dangling ${c ?? 'end'}`);
    return { kind: 'set', members: [c] };
  }

  private escape(): string[] {
    const letter = this.source[this.at++];
    if (letter === undefined) throw new Unsupported('trailing backslash');
    if (letter === 'u' && /^[0-9a-fA-F]{4}$/.test(this.source.slice(this.at, this.at + 4))) {
      this.at += 4;
      return [String.fromCharCode(Number.parseInt(this.source.slice(this.at - 4, this.at), 16))];
    }
    const members = escapeMembers(letter);
    if (!members) throw new Unsupported(`\\${letter}`);
    return members;
  }

  private classChar(): string[] {
    const c = this.source[this.at++];
    if (c === undefined) throw new Unsupported('unclosed class');
    return c === '\\' ? this.escape() : [c];
  }

  private characterClass(): string[] {
    const negate = this.peek() === '^';
    if (negate) this.at++;
    const chosen = new Set<string>();
    for (let first = true; this.peek() !== ']' || first; first = false) {
      const start = this.classChar();
      if (this.peek() === '-' && this.source[this.at + 1] !== ']' && start.length === 1) {
        this.at++;
        const end = this.classChar();
        const from = (start[0] as string).codePointAt(0) ?? 0;
        const to = (end[0] as string).codePointAt(0) ?? from;
        for (const m of UNIVERSE)
          if ((m.codePointAt(0) ?? 0) >= from && (m.codePointAt(0) ?? 0) <= to) chosen.add(m);
        chosen.add(start[0] as string);
      } else {
        for (const m of start) chosen.add(m);
      }
    }
    this.at++;
    const members = negate ? UNIVERSE.filter((m) => !chosen.has(m)) : [...chosen];
    if (members.length === 0) throw new Unsupported('empty class');
    return members;
  }

  private quantified(node: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number | undefined;
    if (c === '*' || c === '+' || c === '?') {
      this.at++;
      [min, max] = c === '*' ? [0, undefined] : c === '+' ? [1, undefined] : [0, 1];
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.source.slice(this.at))) {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.at)) as RegExpExecArray;
      this.at += match[0].length;
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] ? Number(match[3]) : undefined;
    } else {
      return node;
    }
    if (this.peek() === '?') this.at++;
    return this.quantified({ kind: 'repeat', node, min, max });
  }
}

/** Writes one string for the tree; `extra` is how many repetitions unbounded quantifiers add. */
class Writer {
  private cursor = 0;
  constructor(
    private readonly preferred: string[],
    private readonly random: Random,
    private readonly extra: number,
  ) {}

  write(node: Node): string {
    switch (node.kind) {
      case 'sequence':
        return node.items.map((item) => this.write(item)).join('');
      case 'alternation':
        return this.write(node.options[0] as Node);
      case 'repeat': {
        const times =
          node.max === undefined
            ? node.min + this.extra
            : Math.min(node.max, Math.max(node.min, Math.min(node.max, node.min + 1)));
        let out = '';
        for (let i = 0; i < times; i++) out += this.write(node.node);
        return out;
      }
      case 'set':
        return this.pick(node.members);
    }
  }

  /** The next preferred character the set allows (digest, then label), else a seeded member. */
  private pick(members: string[]): string {
    for (let step = 0; step < this.preferred.length; step++) {
      const index = (this.cursor + step) % this.preferred.length;
      const candidate = this.preferred[index] as string;
      if (members.includes(candidate)) {
        this.cursor = index + 1;
        return candidate;
      }
    }
    return pick(this.random, members);
  }
}

/** Generates a string matching a regular expression; undefined when the pattern is beyond this sampler. */
export function samplePattern(
  pattern: string,
  hints: { digest: string; label?: string; minLength: number | undefined; maxLength: number | undefined },
  random: Random,
): string | undefined {
  let tree: Node;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
    tree = new Parser(pattern).parse();
  } catch {
    return undefined;
  }
  const preferred = Array.from(`${hints.digest}${hints.label ?? ''}`);
  // Unbounded quantifiers first repeat digest-length times; if that misses the length bounds, every count up to 64.
  for (const extra of [hints.digest.length, ...Array.from({ length: 65 }, (_, i) => i)]) {
    const text = new Writer(preferred, random, extra).write(tree);
    const length = Array.from(text).length;
    if (regex.test(text) && length >= (hints.minLength ?? 0) && length <= (hints.maxLength ?? Infinity))
      return text;
  }
  return undefined;
}
