import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppErrorException } from '../../../../shared/errors.ts';
import { compileRule, formatRule, type NameResolver } from './compile.ts';
import { parseRule } from './parser.ts';
import { checkRule, ruleFeatureNames } from './context-names.ts';

function resolverFrom(values: Record<string, number>): NameResolver {
  return {
    resolve: (name) => (Object.hasOwn(values, name) ? () => values[name]! : null),
    describeKnownNames: () => Object.keys(values).join(', '),
  };
}

function parseError(text: string): { column: number; expected: string; found: string; message: string } {
  try {
    checkRule(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AppErrorException);
    const e = error as AppErrorException;
    expect(e.code).toBe('RULE_PARSE_ERROR');
    return { ...(e.details as { column: number; expected: string; found: string }), message: e.message };
  }
  throw new Error(`rule '${text}' parsed but should not have`);
}

describe('rule language', () => {
  it('evaluates the issue example over model outputs, features and the bar', () => {
    const values = { 'model.p_up': 0.6, rsi_14: 65, close: 101, sma_50: 100 };
    const rule = compileRule('model.p_up > 0.55 and rsi_14 < 70 and close > sma_50', resolverFrom(values));
    expect(rule.evaluate()).toBe(true);
    values.rsi_14 = 70;
    expect(rule.evaluate()).toBe(false);
    values.rsi_14 = 10;
    values['model.p_up'] = 0.55;
    expect(rule.evaluate()).toBe(false);
  });

  it('honours precedence: not > and > or, arithmetic before comparison, parentheses', () => {
    const v = { a: 1, b: 2, c: 3 };
    const r = (text: string): boolean => compileRule(text, resolverFrom(v)).evaluate();
    expect(r('a > b or b < c and c > a')).toBe(true); // a>b or (b<c and c>a)
    expect(r('(a > b or b < c) and c < a')).toBe(false);
    expect(r('not a > b')).toBe(true);
    expect(r('a + b * c == 7')).toBe(true);
    expect(r('(a + b) * c == 9')).toBe(true);
    expect(r('-a < 0 and c / b >= 1.5 and 1e1 == 10 and .5 < a')).toBe(true);
    expect(r('a != b && !(a == b) || false')).toBe(true);
    expect(r('a <= 1 and a >= 1 and true')).toBe(true);
  });

  it('treats any comparison with a warming-up (NaN) value as false, != included', () => {
    const v = { x: NaN, y: 1 };
    for (const op of ['<', '<=', '>', '>=', '==', '!='])
      expect(compileRule(`x ${op} y`, resolverFrom(v)).evaluate()).toBe(false);
    expect(compileRule('not x > y', resolverFrom(v)).evaluate()).toBe(true);
  });

  it('crosses_above fires once, on the bar of the cross, even when short-circuited by and', () => {
    const v = { fast: 1, slow: 2, gate: 0 };
    // gate == 1 is false on the bars before the cross, so crosses_above is skipped by 'and'
    // during evaluation of the tree; its state must still advance every bar.
    const rule = compileRule('gate == 1 and crosses_above(fast, slow)', resolverFrom(v));
    const below = compileRule('crosses_below(fast, slow)', resolverFrom(v));
    const seen: boolean[] = [];
    const seenBelow: boolean[] = [];
    const path = [
      [1, 2, 0],
      [1.5, 2, 0],
      [2, 2, 1], // equal: not above yet
      [3, 2, 1], // crosses
      [4, 2, 1],
      [1, 2, 1], // crosses below
    ];
    for (const [f, s, g] of path) {
      v.fast = f!;
      v.slow = s!;
      v.gate = g!;
      seen.push(rule.evaluate());
      seenBelow.push(below.evaluate());
    }
    expect(seen).toEqual([false, false, false, true, false, false]);
    expect(seenBelow).toEqual([false, false, false, false, false, true]);
  });

  it('names the column and the expected token in parse errors', () => {
    expect(parseError('close > ')).toMatchObject({ column: 9, found: 'end' });
    expect(parseError('close > ').expected).toContain('a value');
    const missingParen = parseError('(close > sma_50 and rsi_14 < 70');
    expect(missingParen.column).toBe(32);
    expect(missingParen.expected).toContain("')'");
    expect(parseError('close > sma_50 and and rsi_14 < 3')).toMatchObject({ column: 20, found: 'and' });
    expect(parseError('close = 3')).toMatchObject({ column: 7, expected: "'==' (equals) or a comparison" });
    expect(parseError('close > 3 $')).toMatchObject({ column: 11, found: '$' });
    expect(parseError('close > 3)')).toMatchObject({ column: 10 });
    expect(parseError('1 < close < 2').message).toContain('do not chain');
    const message = parseError('close > sma_50 and and rsi_14 < 3').message;
    expect(message).toContain('column 20');
    expect(message).toContain('\n                   ^');
  });

  it('refuses type errors and unknown names with their column', () => {
    expect(parseError('close and rsi_14 < 3')).toMatchObject({ column: 1 });
    expect(parseError('close + (rsi_14 < 3) > 1')).toMatchObject({ column: 10 });
    expect(parseError('close')).toMatchObject({ column: 1, found: 'a number' });
    const unknown = parseError('close > constructor');
    expect(unknown).toMatchObject({ column: 9, found: 'constructor' });
    expect(unknown.expected).toContain('model.<output>');
    expect(parseError('close > __proto__')).toMatchObject({ column: 9 });
    expect(parseError('crosses_above(close) and true')).toMatchObject({
      column: 1,
      expected: '2 arguments',
      found: '1',
    });
    expect(parseError('explode(close, 1)')).toMatchObject({ column: 1, found: 'explode' });
    expect(parseError('')).toMatchObject({ column: 1 });
    expect(parseError('3x > 1')).toMatchObject({ column: 2 });
    expect(parseError('1e > 1')).toMatchObject({ column: 3 });
  });

  it('lists the features a rule reads', () => {
    expect(
      ruleFeatureNames(
        'model.p_up > 0.55 and rsi_14 < 70 and close > sma_50 or crosses_above(ema_12, bb_upper_20)',
      ).sort(),
    ).toEqual(['bb_upper_20', 'ema_12', 'rsi_14', 'sma_50']);
  });

  it('rejects deep nesting and huge input with a parse error, not a stack overflow', () => {
    expect(parseError(`${'('.repeat(200)}close > 1${')'.repeat(200)}`).message).toContain('nests deeper');
    expect(parseError(`${'not '.repeat(100)}close > 1`).message).toContain('nests deeper');
    expect(() => checkRule('close > 1 or '.repeat(1000) + 'true')).toThrow(/limit is 4000/);
  });

  it('never fails with anything but a RULE_PARSE_ERROR on arbitrary text (property)', () => {
    const alphabet = fc.constantFrom(
      'close',
      'sma_50',
      'model.p_up',
      '>',
      '<=',
      '==',
      '!=',
      'and',
      'or',
      'not',
      '(',
      ')',
      ',',
      '1.5',
      '-',
      '*',
      'crosses_above',
      ' ',
      '=',
      '$',
      'true',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }), fc.string({ maxLength: 20 }), (tokens, noise) => {
        const text = tokens.join(' ') + noise;
        try {
          checkRule(text);
        } catch (error) {
          expect(error).toBeInstanceOf(AppErrorException);
          expect((error as AppErrorException).code).toBe('RULE_PARSE_ERROR');
          const column = ((error as AppErrorException).details as { column: number }).column;
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual(text.length + 1);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('parses into a typed tree (and/or are left-associative)', () => {
    const tree = parseRule('a > 1 and b > 2 and c > 3');
    expect(tree.kind).toBe('logical');
    if (tree.kind === 'logical') expect(tree.left.kind).toBe('logical');
  });

  it('traces the last evaluation: result, every value read, the previous values of a cross, and each clause', () => {
    const v: Record<string, number> = { fast: 1, slow: 2, rsi_14: 40 };
    const rule = compileRule('crosses_above(fast, slow) and rsi_14 < 70', resolverFrom(v));
    expect(rule.evaluate()).toBe(false);
    v.fast = 3;
    expect(rule.evaluate()).toBe(true);
    v.rsi_14 = 90; // after the evaluation: the trace reads values now, the result stays the last one
    const trace = rule.trace();
    expect(trace.isTrue).toBe(true);
    expect(trace.inputs).toEqual({ fast: 3, slow: 2, rsi_14: 90, 'fast[1]': 1, 'slow[1]': 2 });
    expect(trace.clauses).toEqual([
      { expression: 'crosses_above(fast, slow)', isTrue: true },
      { expression: 'rsi_14 < 70', isTrue: false },
    ]);
    // Tracing does not advance the cross: the next bar without a new cross is false.
    rule.trace();
    expect(rule.evaluate()).toBe(false);
  });

  it('writes a rule back as text that parses to the same rule (property over generated rules)', () => {
    const name = fc.constantFrom('close', 'sma_10', 'model.p_up', 'volume');
    const num: fc.Arbitrary<string> = fc.letrec<{ n: string }>((tie) => ({
      n: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        name,
        fc.integer({ min: 0, max: 1000 }).map(String),
        fc
          .tuple(tie('n'), fc.constantFrom('+', '-', '*', '/'), tie('n'))
          .map(([a, op, b]) => `(${a} ${op} ${b})`),
        tie('n').map((a) => `-(${a})`),
      ),
    })).n;
    const cond: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
      c: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc
          .tuple(num, fc.constantFrom('<', '<=', '>', '>=', '==', '!='), num)
          .map(([a, op, b]) => `${a} ${op} ${b}`),
        fc.tuple(num, num).map(([a, b]) => `crosses_above(${a}, ${b})`),
        fc.tuple(tie('c'), fc.constantFrom('and', 'or'), tie('c')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
        tie('c').map((a) => `not (${a})`),
      ),
    })).c;
    fc.assert(
      fc.property(cond, (text) => {
        const printed = formatRule(parseRule(text));
        expect(parseRule(printed)).toEqual(stripColumns(parseRule(text), parseRule(printed)));
      }),
    );
  });
});

/** The parsed tree of `a` with the columns of `b` (same shape expected): compares structure only. */
function stripColumns(a: unknown, b: unknown): unknown {
  if (Array.isArray(a)) return a.map((x, i) => stripColumns(x, (b as unknown[] | undefined)?.[i]));
  if (a && typeof a === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a))
      out[k] =
        k === 'column'
          ? (b as Record<string, unknown> | undefined)?.[k]
          : stripColumns(v, (b as Record<string, unknown> | undefined)?.[k]);
    return out;
  }
  return a;
}
