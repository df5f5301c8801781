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
}

type BoolFn = () => boolean;

interface CrossState {
  a: NumberSource;
  b: NumberSource;
  isAbove: boolean;
  previousA: number;
  previousB: number;
  value: boolean;
}

function updateCross(s: CrossState): void {
  const a = s.a();
  const b = s.b();
  const pa = s.previousA;
  const pb = s.previousB;
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
        if (!source) return ruleError(text, node.column, `unknown name '${node.name}'`, resolver.describeKnownNames(), node.name);
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
          isAbove: node.name === 'crosses_above',
          previousA: NaN,
          previousB: NaN,
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
  return {
    text,
    names,
    evaluate(): boolean {
      for (let i = 0; i < crosses.length; i++) updateCross(crosses[i]!);
      return evaluateTree();
    },
  };
}
