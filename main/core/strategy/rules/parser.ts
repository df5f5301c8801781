import { ruleError, tokenize, type Token } from './tokenizer.ts';

/**
 * Pratt parser for the rule language. Grammar (lowest binding first):
 *   expr       := or
 *   or         := and ('or' and)*
 *   and        := not ('and' not)*
 *   not        := 'not' not | comparison
 *   comparison := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?      -- not chained: a < b < c is an error
 *   sum        := product (('+'|'-') product)*
 *   product    := unary (('*'|'/') unary)*
 *   unary      := '-' unary | primary
 *   primary    := number | 'true' | 'false' | name | name '(' args ')' | '(' expr ')'
 * Every node is typed (number or boolean) while parsing, so `close and rsi_14` or `close > (a < b)`
 * is refused with the column of the offending operand.
 */

export type ValueType = 'number' | 'boolean';
export type ComparisonOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ArithmeticOperator = '+' | '-' | '*' | '/';

export type RuleNode =
  | { kind: 'number'; value: number; column: number }
  | { kind: 'boolean'; value: boolean; column: number }
  | { kind: 'name'; name: string; column: number }
  | { kind: 'negate'; operand: RuleNode; column: number }
  | { kind: 'not'; operand: RuleNode; column: number }
  /** Binary nodes carry the column where their left operand starts (type errors point at the whole operand). */
  | { kind: 'arithmetic'; op: ArithmeticOperator; left: RuleNode; right: RuleNode; column: number }
  | { kind: 'compare'; op: ComparisonOperator; left: RuleNode; right: RuleNode; column: number }
  | { kind: 'logical'; op: 'and' | 'or'; left: RuleNode; right: RuleNode; column: number }
  | { kind: 'call'; name: string; args: RuleNode[]; column: number };

/** Functions the language knows: name -> argument count. Both return booleans. */
export const RULE_FUNCTIONS: Readonly<Record<string, number>> = {
  crosses_above: 2,
  crosses_below: 2,
};

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);
const MAX_DEPTH = 64;

export function nodeType(node: RuleNode): ValueType {
  switch (node.kind) {
    case 'number':
    case 'name':
    case 'negate':
    case 'arithmetic':
      return 'number';
    default:
      return 'boolean';
  }
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the rule' : `'${token.text}'`;
}

class Parser {
  private readonly text: string;
  private readonly tokens: Token[];
  private position = 0;
  private depth = 0;

  constructor(text: string) {
    this.text = text;
    this.tokens = tokenize(text);
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    const t = this.tokens[this.position]!;
    if (t.kind !== 'end') this.position++;
    return t;
  }

  private fail(token: Token, expected: string, message?: string): never {
    return ruleError(
      this.text,
      token.column,
      message ?? `expected ${expected}, found ${describe(token)}`,
      expected,
      token.kind === 'end' ? 'end' : token.text,
    );
  }

  private expectType(node: RuleNode, type: ValueType, context: string): void {
    if (nodeType(node) !== type) {
      const expected =
        type === 'number'
          ? 'a number (a value like close, rsi_14 or 0.5)'
          : 'a condition (a comparison such as close > sma_50)';
      ruleError(
        this.text,
        node.column,
        `${context} needs ${expected}`,
        expected,
        nodeType(node) === 'number' ? 'a number' : 'a condition',
      );
    }
  }

  parseRule(): RuleNode {
    if (this.peek().kind === 'end')
      this.fail(this.peek(), 'a condition', 'the rule is empty: expected a condition such as close > sma_50');
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'end') {
      const expected =
        rest.kind === 'rparen'
          ? "no ')' here (unbalanced parenthesis)"
          : "'and', 'or' or the end of the rule";
      this.fail(rest, expected);
    }
    this.expectType(node, 'boolean', 'a rule');
    return node;
  }

  private parseOr(): RuleNode {
    let left = this.parseAnd();
    while (this.peek().kind === 'keyword' && this.peek().text === 'or') {
      this.next();
      const right = this.parseAnd();
      this.expectType(left, 'boolean', "'or'");
      this.expectType(right, 'boolean', "'or'");
      left = { kind: 'logical', op: 'or', left, right, column: left.column };
    }
    return left;
  }

  private parseAnd(): RuleNode {
    let left = this.parseNot();
    while (this.peek().kind === 'keyword' && this.peek().text === 'and') {
      this.next();
      const right = this.parseNot();
      this.expectType(left, 'boolean', "'and'");
      this.expectType(right, 'boolean', "'and'");
      left = { kind: 'logical', op: 'and', left, right, column: left.column };
    }
    return left;
  }

  private parseNot(): RuleNode {
    const t = this.peek();
    if (t.kind === 'keyword' && t.text === 'not') {
      this.next();
      const operand = this.nested(() => this.parseNot());
      this.expectType(operand, 'boolean', "'not'");
      return { kind: 'not', operand, column: t.column };
    }
    return this.parseComparison();
  }

  private parseComparison(): RuleNode {
    const left = this.parseSum();
    const t = this.peek();
    if (t.kind !== 'operator' || !COMPARISONS.has(t.text)) return left;
    this.next();
    const right = this.parseSum();
    this.expectType(left, 'number', `'${t.text}'`);
    this.expectType(right, 'number', `'${t.text}'`);
    const after = this.peek();
    if (after.kind === 'operator' && COMPARISONS.has(after.text)) {
      this.fail(
        after,
        "'and' or 'or'",
        `comparisons do not chain: write 'a ${t.text} b and b ${after.text} c' instead`,
      );
    }
    return { kind: 'compare', op: t.text as ComparisonOperator, left, right, column: left.column };
  }

  private parseSum(): RuleNode {
    let left = this.parseProduct();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'operator' || (t.text !== '+' && t.text !== '-')) return left;
      this.next();
      const right = this.parseProduct();
      this.expectType(left, 'number', `'${t.text}'`);
      this.expectType(right, 'number', `'${t.text}'`);
      left = { kind: 'arithmetic', op: t.text, left, right, column: left.column };
    }
  }

  private parseProduct(): RuleNode {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'operator' || (t.text !== '*' && t.text !== '/')) return left;
      this.next();
      const right = this.parseUnary();
      this.expectType(left, 'number', `'${t.text}'`);
      this.expectType(right, 'number', `'${t.text}'`);
      left = { kind: 'arithmetic', op: t.text, left, right, column: left.column };
    }
  }

  private parseUnary(): RuleNode {
    const t = this.peek();
    if (t.kind === 'operator' && t.text === '-') {
      this.next();
      const operand = this.nested(() => this.parseUnary());
      this.expectType(operand, 'number', "'-'");
      return { kind: 'negate', operand, column: t.column };
    }
    return this.parsePrimary();
  }

  private nested<T>(fn: () => T): T {
    if (++this.depth > MAX_DEPTH)
      this.fail(this.peek(), 'a simpler rule', `the rule nests deeper than ${MAX_DEPTH} levels`);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private parsePrimary(): RuleNode {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { kind: 'number', value: t.value, column: t.column };
      case 'keyword':
        if (t.text === 'true' || t.text === 'false')
          return { kind: 'boolean', value: t.text === 'true', column: t.column };
        return this.fail(t, 'a value (number, name or parenthesis)');
      case 'identifier': {
        if (this.peek().kind !== 'lparen') return { kind: 'name', name: t.text, column: t.column };
        const arity = RULE_FUNCTIONS[t.text];
        if (arity === undefined) {
          return ruleError(
            this.text,
            t.column,
            `unknown function '${t.text}'`,
            `one of ${Object.keys(RULE_FUNCTIONS).join(', ')}`,
            t.text,
          );
        }
        this.next();
        const args: RuleNode[] = [];
        if (this.peek().kind !== 'rparen') {
          for (;;) {
            const arg = this.nested(() => this.parseSum());
            this.expectType(arg, 'number', `${t.text}()`);
            args.push(arg);
            if (this.peek().kind !== 'comma') break;
            this.next();
          }
        }
        const close = this.peek();
        if (close.kind !== 'rparen')
          this.fail(close, args.length < arity ? "',' and another argument" : "')'");
        this.next();
        if (args.length !== arity) {
          ruleError(
            this.text,
            t.column,
            `${t.text} takes ${arity} arguments, got ${args.length}`,
            `${arity} arguments`,
            `${args.length}`,
          );
        }
        return { kind: 'call', name: t.text, args, column: t.column };
      }
      case 'lparen': {
        const inner = this.nested(() => this.parseOr());
        const close = this.peek();
        if (close.kind !== 'rparen') this.fail(close, `')' to close the '(' at column ${t.column}`);
        this.next();
        return inner;
      }
      default:
        return this.fail(t, 'a value (number, name or parenthesis)');
    }
  }
}

/** Parses a rule; throws RULE_PARSE_ERROR with { column, expected, found } details. */
export function parseRule(text: string): RuleNode {
  return new Parser(text).parseRule();
}

/** Every name a rule reads (for working out which indicators it needs). */
export function ruleNames(node: RuleNode, out: Set<string> = new Set()): Set<string> {
  switch (node.kind) {
    case 'name':
      out.add(node.name);
      break;
    case 'negate':
    case 'not':
      ruleNames(node.operand, out);
      break;
    case 'arithmetic':
    case 'compare':
    case 'logical':
      ruleNames(node.left, out);
      ruleNames(node.right, out);
      break;
    case 'call':
      for (const a of node.args) ruleNames(a, out);
      break;
    default:
      break;
  }
  return out;
}
