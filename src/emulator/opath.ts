/**
 * The OPATH subset Exchange's -Filter accepts that ownersync users are expected to
 * write: -eq, -ne, -like, -notlike (`*` wildcards), -and, -or, -not, parentheses,
 * single- or double-quoted values, on DisplayName, Name, Alias, PrimarySmtpAddress
 * and UserPrincipalName. Comparison is case-insensitive, as in Exchange. Anything
 * else is an OpathError, which the cmdlet layer turns into the 400 error shape.
 */
import type { Recipient } from './model.js';

export class OpathError extends Error {}

export type RecipientPredicate = (r: Recipient) => boolean;

const PROPERTIES: Record<string, (r: Recipient) => string> = {
  displayname: (r) => r.displayName,
  name: (r) => r.name,
  alias: (r) => r.alias,
  primarysmtpaddress: (r) => r.primarySmtpAddress,
  userprincipalname: (r) => r.userPrincipalName ?? '',
};

type Token =
  | { t: 'op'; v: string }
  | { t: 'word'; v: string }
  | { t: 'str'; v: string }
  | { t: '(' }
  | { t: ')' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: c });
      i++;
    } else if (c === "'" || c === '"') {
      // PowerShell escapes a quote inside a quoted string by doubling it.
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new OpathError(`unterminated string starting at position ${src.indexOf(c)}`);
        const d = src[i]!;
        if (d === c) {
          if (src[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '"' && d === '`' && i + 1 < src.length) {
          v += src[i + 1];
          i += 2;
          continue;
        }
        v += d;
        i++;
      }
      out.push({ t: 'str', v });
    } else if (c === '-') {
      const m = /^-[A-Za-z]+/.exec(src.slice(i));
      if (!m) throw new OpathError(`unexpected '-' at position ${i}`);
      out.push({ t: 'op', v: m[0].toLowerCase() });
      i += m[0].length;
    } else {
      const m = /^[^\s()'"]+/.exec(src.slice(i))!;
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function wildcardMatcher(pattern: string): (v: string) => boolean {
  const lower = pattern.toLowerCase();
  if (!lower.includes('*')) return (v) => v.toLowerCase() === lower;
  const re = new RegExp(`^${lower.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return (v) => re.test(v.toLowerCase());
}

/** Parse a filter into a predicate; throws OpathError naming what is unsupported. */
export function compileOpath(filter: string): RecipientPredicate {
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];

  const parseOr = (): RecipientPredicate => {
    let left = parseAnd();
    for (let t = peek(); t && t.t === 'op' && t.v === '-or'; t = peek()) {
      pos++;
      const l = left;
      const r = parseAnd();
      left = (x) => l(x) || r(x);
    }
    return left;
  };
  const parseAnd = (): RecipientPredicate => {
    let left = parseUnary();
    for (let t = peek(); t && t.t === 'op' && t.v === '-and'; t = peek()) {
      pos++;
      const l = left;
      const r = parseUnary();
      left = (x) => l(x) && r(x);
    }
    return left;
  };
  const parseUnary = (): RecipientPredicate => {
    const t = peek();
    if (!t) throw new OpathError('unexpected end of filter');
    if (t.t === 'op' && t.v === '-not') {
      pos++;
      const inner = parseUnary();
      return (x) => !inner(x);
    }
    if (t.t === '(') {
      pos++;
      const inner = parseOr();
      if (peek()?.t !== ')') throw new OpathError("missing ')'");
      pos++;
      return inner;
    }
    return parseComparison();
  };
  const parseComparison = (): RecipientPredicate => {
    const prop = tokens[pos++];
    if (!prop || prop.t !== 'word') throw new OpathError('expected a property name');
    const get = PROPERTIES[prop.v.toLowerCase()];
    if (!get) throw new OpathError(`property '${prop.v}' is not supported by this emulator`);
    const op = tokens[pos++];
    if (!op || op.t !== 'op') throw new OpathError(`expected an operator after '${prop.v}'`);
    const val = tokens[pos++];
    if (!val || val.t !== 'str') {
      throw new OpathError(`expected a quoted value after '${prop.v} ${op.t === 'op' ? op.v : ''}'`);
    }
    switch (op.v) {
      case '-eq': {
        const v = val.v.toLowerCase();
        return (x) => get(x).toLowerCase() === v;
      }
      case '-ne': {
        const v = val.v.toLowerCase();
        return (x) => get(x).toLowerCase() !== v;
      }
      case '-like': {
        const m = wildcardMatcher(val.v);
        return (x) => m(get(x));
      }
      case '-notlike': {
        const m = wildcardMatcher(val.v);
        return (x) => !m(get(x));
      }
      default:
        throw new OpathError(`operator '${op.v}' is not supported by this emulator`);
    }
  };

  if (tokens.length === 0) throw new OpathError('empty filter');
  const pred = parseOr();
  if (pos < tokens.length) throw new OpathError(`unexpected text at token ${pos + 1}`);
  return pred;
}
