import { parseRule, ruleNames, type RuleNode } from './parser.ts';
import { ruleError } from './tokenizer.ts';

/**
 * Turns a parsed rule into a tree of small closures over the values a strategy may read.
 * No eval/Function: the only code that runs is this file's, whatever the rule says.
 *
 * Semantics (docs/strategies.md):
 * - any comparison with a NaN operand is false, `!=` included: an indicator still warming up
 *   never satisfies a rule;
 * - comparisons are exact on doubles. The built-in averages are correctly rounded from exact
 *   window sums (main/core/features/exact-sum.ts), so two averages equal in exact arithmetic are
 *   the same double and `sma_10 > sma_30` is false on that bar: rounding cannot invent a signal;
 * - crosses_above(a, b) is true on the bar where a > b after a <= b on the previous bar (both
 *   finite on both bars); crosses_below mirrors it. Their state advances once per evaluate(),
 *   before the tree is walked, so short-circuiting `and`/`or` never skips a bar.
 */

export type NumberSource = () => number;

/** Maps a name in a rule to a reader of its current value, or null when the name is unknown. */
export interface NameResolver {
  resolve(name: string): NumberSource | null;
  /** Names offered in the error for an unknown one. */
  describeKnownNames(): string;
}

export interface CompiledRule {
  readonly text: string;
  readonly names: ReadonlySet<string>;
  /** Evaluates the rule for the current bar; call exactly once per bar (crosses keep state). */
  evaluate(): boolean;
  /**
   * What the last evaluate() saw (for the signal record): its result, the value of every name the
   * rule reads (`x[1]` = the previous bar's value of a crosses_* argument) and each clause of the
   * top-level and/or chain with its own result. Reads only: the cross state does not advance.
   */
  trace(): RuleTrace;
}

export interface RuleTrace {
  isTrue: boolean;
  /** Name -> value at the last evaluation (NaN while warming up / before a prediction). */
  inputs: Record<string, number>;
  /** The top-level `and`/`or` operands (one clause when the rule has no top-level and/or). */
  clauses: { expression: string; isTrue: boolean }[];
}

type BoolFn = () => boolean;

interface CrossState {
  a: NumberSource;
  b: NumberSource;
  /** Argument texts, for the trace's `a[1]` / `b[1]` inputs. */
  aText: string;
  bText: string;
  isAbove: boolean;
  previousA: number;
  previousB: number;
  /** The previous values the last update compared against (previousA/B then hold the current ones). */
  priorA: number;
  priorB: number;
  value: boolean;
}

function updateCross(s: CrossState): void {
  const a = s.a();
  const b = s.b();
  const pa = s.previousA;
  const pb = s.previousB;
  s.priorA = pa;
  s.priorB = pb;
  // x - x === 0 only for finite x.
  const isFinite = a - a === 0 && b - b === 0 && pa - pa === 0 && pb - pb === 0;
  s.value = isFinite && (s.isAbove ? pa <= pb && a > b : pa >= pb && a < b);
  s.previousA = a;
  s.previousB = b;
}

export function compileRule(text: string, resolver: NameResolver): CompiledRule {
  const root = parseRule(text);
  const crosses: CrossState[] = [];

  const num = (node: RuleNode): NumberSource => {
    switch (node.kind) {
      case 'number': {
        const v = node.value;
        return () => v;
      }
      case 'name': {
        const source = resolver.resolve(node.name);
        if (!source)
          return ruleError(
            text,
            node.column,
            `unknown name '${node.name}'`,
            resolver.describeKnownNames(),
            node.name,
          );
        return source;
      }
      case 'negate': {
        const f = num(node.operand);
        return () => -f();
      }
      case 'arithmetic': {
        const l = num(node.left);
        const r = num(node.right);
        switch (node.op) {
          case '+':
            return () => l() + r();
          case '-':
            return () => l() - r();
          case '*':
            return () => l() * r();
          default:
            return () => l() / r();
        }
      }
      default:
        throw new Error(`rule node ${node.kind} is not a number (parser type check missed it)`);
    }
  };

  const bool = (node: RuleNode): BoolFn => {
    switch (node.kind) {
      case 'boolean': {
        const v = node.value;
        return () => v;
      }
      case 'not': {
        const f = bool(node.operand);
        return () => !f();
      }
      case 'logical': {
        const l = bool(node.left);
        const r = bool(node.right);
        return node.op === 'and' ? () => l() && r() : () => l() || r();
      }
      case 'compare': {
        const l = num(node.left);
        const r = num(node.right);
        switch (node.op) {
          case '<':
            return () => l() < r();
          case '<=':
            return () => l() <= r();
          case '>':
            return () => l() > r();
          case '>=':
            return () => l() >= r();
          case '==':
            return () => l() === r();
          default:
            return () => {
              const a = l();
              const b = r();
              return a === a && b === b && a !== b;
            };
        }
      }
      case 'call': {
        const state: CrossState = {
          a: num(node.args[0]!),
          b: num(node.args[1]!),
          aText: formatRule(node.args[0]!),
          bText: formatRule(node.args[1]!),
          isAbove: node.name === 'crosses_above',
          previousA: NaN,
          previousB: NaN,
          priorA: NaN,
          priorB: NaN,
          value: false,
        };
        crosses.push(state);
        return () => state.value;
      }
      default:
        throw new Error(`rule node ${node.kind} is not a condition (parser type check missed it)`);
    }
  };

  const evaluateTree = bool(root);
  const names = ruleNames(root);
  // Clause closures are pure reads (a cross clause returns its stored value), so the trace may call them again.
  const clauses = topLevelClauses(root).map((node) => ({ expression: formatRule(node), isTrue: bool(node) }));
  const sources = [...names].map((name) => ({ name, source: resolver.resolve(name)! }));
  let lastResult = false;
  return {
    text,
    names,
    evaluate(): boolean {
      for (let i = 0; i < crosses.length; i++) updateCross(crosses[i]!);
      lastResult = evaluateTree();
      return lastResult;
    },
    trace(): RuleTrace {
      const inputs: Record<string, number> = {};
      for (const { name, source } of sources) inputs[name] = source();
      for (const c of crosses) {
        inputs[`${c.aText}[1]`] = c.priorA;
        inputs[`${c.bText}[1]`] = c.priorB;
      }
      return {
        isTrue: lastResult,
        inputs,
        clauses: clauses.map((c) => ({ expression: c.expression, isTrue: c.isTrue() })),
      };
    },
  };
}

/** The operands of the root's and/or chain (same operator all the way down the left), or the root itself. */
function topLevelClauses(root: RuleNode): RuleNode[] {
  if (root.kind !== 'logical') return [root];
  const op = root.op;
  const out: RuleNode[] = [];
  const walk = (node: RuleNode): void => {
    if (node.kind === 'logical' && node.op === op) {
      walk(node.left);
      walk(node.right);
    } else out.push(node);
  };
  walk(root);
  return out;
}

/** A rule (or part of one) written back as text: canonical spacing, parentheses only where needed. */
export function formatRule(node: RuleNode): string {
  const precedence = (n: RuleNode): number => {
    switch (n.kind) {
      case 'logical':
        return n.op === 'or' ? 1 : 2;
      case 'not':
        return 3;
      case 'compare':
        return 4;
      case 'arithmetic':
        return n.op === '+' || n.op === '-' ? 5 : 6;
      case 'negate':
        return 7;
      default:
        return 8;
    }
  };
  // Left-associative binary operators: the right operand needs parentheses at equal precedence too.
  const wrap = (child: RuleNode, min: number): string =>
    precedence(child) < min ? `(${formatRule(child)})` : formatRule(child);
  switch (node.kind) {
    case 'number':
      return String(node.value);
    case 'boolean':
      return node.value ? 'true' : 'false';
    case 'name':
      return node.name;
    case 'negate':
      return `-${wrap(node.operand, 7)}`;
    case 'not':
      return `not ${wrap(node.operand, 3)}`;
    case 'call':
      return `${node.name}(${node.args.map(formatRule).join(', ')})`;
    default: {
      const p = precedence(node);
      // Comparisons do not chain, so both sides must bind tighter; the others are left-associative.
      const leftMin = node.kind === 'compare' ? p + 1 : p;
      return `${wrap(node.left, leftMin)} ${node.op} ${wrap(node.right, p + 1)}`;
    }
  }
}
