import { appError } from '../../../../shared/errors.ts';

/**
 * Tokens of the rule language (docs/strategies.md). Hand-written scanner: no regular expression
 * over the whole input and never eval/Function, so a rule typed by a user can only ever be data.
 * Columns are 1-based character positions in the rule text, reported in every parse error.
 */

export type TokenKind =
  'number' | 'identifier' | 'operator' | 'lparen' | 'rparen' | 'comma' | 'keyword' | 'end';

export interface Token {
  kind: TokenKind;
  /** The token's text ('and', '>=', 'model.p_up', '0.55'); '' for end. */
  text: string;
  /** Numeric value of a number token. */
  value: number;
  /** 1-based column of the first character. */
  column: number;
}

export const KEYWORDS = ['and', 'or', 'not', 'true', 'false'] as const;

/** Rules are short; a limit keeps a pasted megabyte from reaching the parser. */
export const MAX_RULE_LENGTH = 4000;

const TWO_CHAR_OPERATORS = ['<=', '>=', '==', '!=', '&&', '||'];
const ONE_CHAR_OPERATORS = '<>+-*/!';

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** The rule with a caret under `column`, for error messages. */
export function pointAt(text: string, column: number): string {
  return `${text}\n${' '.repeat(Math.max(0, column - 1))}^`;
}

export function ruleError(
  text: string,
  column: number,
  message: string,
  expected: string,
  found: string,
): never {
  throw appError('RULE_PARSE_ERROR', `Rule error at column ${column}: ${message}\n${pointAt(text, column)}`, {
    column,
    expected,
    found,
  });
}

export function tokenize(text: string): Token[] {
  if (text.length > MAX_RULE_LENGTH) {
    throw appError(
      'RULE_PARSE_ERROR',
      `Rule is ${text.length} characters long; the limit is ${MAX_RULE_LENGTH}.`,
      { column: MAX_RULE_LENGTH + 1, expected: 'a shorter rule', found: 'more text' },
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const column = i + 1;
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      let j = i;
      while (j < text.length && isDigit(text[j]!)) j++;
      if (text[j] === '.') {
        j++;
        while (j < text.length && isDigit(text[j]!)) j++;
      }
      if (text[j] === 'e' || text[j] === 'E') {
        let k = j + 1;
        if (text[k] === '+' || text[k] === '-') k++;
        if (!isDigit(text[k] ?? ''))
          ruleError(text, k + 1, "a number's exponent needs digits", 'digits', text[k] ?? 'end of rule');
        while (k < text.length && isDigit(text[k]!)) k++;
        j = k;
      }
      if (isIdentStart(text[j] ?? ''))
        ruleError(
          text,
          j + 1,
          `unexpected '${text[j]}' after the number ${text.slice(i, j)}`,
          'an operator or the end of the rule',
          text[j]!,
        );
      const raw = text.slice(i, j);
      tokens.push({ kind: 'number', text: raw, value: Number(raw), column });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i;
      for (;;) {
        while (j < text.length && isIdentPart(text[j]!)) j++;
        // Dotted names: model.p_up, position.quantity.
        if (text[j] === '.' && isIdentStart(text[j + 1] ?? '')) {
          j++;
          continue;
        }
        break;
      }
      const word = text.slice(i, j);
      const lower = word.toLowerCase();
      const isKeyword = (KEYWORDS as readonly string[]).includes(lower);
      tokens.push({
        kind: isKeyword ? 'keyword' : 'identifier',
        text: isKeyword ? lower : word,
        value: NaN,
        column,
      });
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR_OPERATORS.includes(two)) {
      // && || are accepted as spellings of and/or.
      const normal = two === '&&' ? 'and' : two === '||' ? 'or' : two;
      tokens.push({ kind: normal === two ? 'operator' : 'keyword', text: normal, value: NaN, column });
      i += 2;
      continue;
    }
    if (c === '=')
      ruleError(text, column, "'=' is not an operator here", "'==' (equals) or a comparison", '=');
    if (ONE_CHAR_OPERATORS.includes(c)) {
      tokens.push(
        c === '!'
          ? { kind: 'keyword', text: 'not', value: NaN, column }
          : { kind: 'operator', text: c, value: NaN, column },
      );
      i++;
      continue;
    }
    if (c === '(') tokens.push({ kind: 'lparen', text: c, value: NaN, column });
    else if (c === ')') tokens.push({ kind: 'rparen', text: c, value: NaN, column });
    else if (c === ',') tokens.push({ kind: 'comma', text: c, value: NaN, column });
    else
      ruleError(
        text,
        column,
        `unexpected character '${c}'`,
        'a number, a name, an operator or a parenthesis',
        c,
      );
    i++;
  }
  tokens.push({ kind: 'end', text: '', value: NaN, column: text.length + 1 });
  return tokens;
}
