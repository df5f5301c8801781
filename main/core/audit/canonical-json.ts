/**
 * Canonical JSON for the audit chain: the same value always gives the same bytes, so its hash can
 * be recomputed anywhere. Rules: object keys sorted by UTF-16 code units (JavaScript's default
 * sort, what `JSON.stringify` with sorted keys gives in any language that sorts the same way);
 * no whitespace; numbers as the shortest string that round-trips (ECMAScript Number::toString,
 * -0 written 0); NaN, Infinity, bigint, functions, symbols and non-plain objects are refused
 * (an ambiguous or lossy value must never reach the ledger); undefined object members are left
 * out, undefined array items refused.
 */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

export function canonicalJson(value: unknown): string {
  return write(value, '$', 0);
}

const MAX_DEPTH = 64;

function write(value: unknown, path: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`${path}: nesting deeper than ${MAX_DEPTH}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path}: ${value} is not a finite number`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw new CanonicalJsonError(`${path}[${i}]: undefined in an array`);
          if (i > 0) out += ',';
          out += write(item, `${path}[${i}]`, depth + 1);
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(
          `${path}: only plain objects are allowed (got ${value.constructor?.name ?? 'unknown'})`,
        );
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let isFirst = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        if (!isFirst) out += ',';
        isFirst = false;
        out += `${JSON.stringify(key)}:${write(member, `${path}.${key}`, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(`${path}: ${typeof value} cannot be written to the audit ledger`);
  }
}
