/**
 * Canonical JSON: the byte form the plan digest is computed over. Object keys are
 * sorted recursively (by UTF-16 code unit, as RFC 8785 does), arrays keep their order,
 * there is no whitespace, and numbers and strings use ECMAScript JSON serialisation.
 *
 * Anything that has no single JSON meaning is rejected rather than silently coerced,
 * because a value that serialises differently on two machines would make the digest
 * depend on where it was computed. A property whose value is `undefined` is treated
 * as absent, exactly as the YAML writer and JSON.stringify treat it, so that an
 * optional field left undefined hashes the same before and after a write → read.
 */

export class CanonicalJsonError extends TypeError {}

/** Serialise `value` canonically; throws CanonicalJsonError for non-JSON values. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out, new Set());
  return out.join('');
}

function write(value: unknown, path: string, out: string[], seen: Set<object>): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path}: ${value} is not a JSON number`);
      // JSON.stringify(-0) is "0": one spelling per value.
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${path}: a ${typeof value} is not a JSON value`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new CanonicalJsonError(`${path}: circular reference`);
  seen.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.push(',');
      // Sparse arrays and undefined elements have no JSON form (JSON.stringify would say null).
      if (!(i in obj) || obj[i] === undefined) throw new CanonicalJsonError(`${path}[${i}]: undefined is not a JSON value`);
      write(obj[i], `${path}[${i}]`, out, seen);
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(`${path}: a ${name} is not a plain JSON object`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) throw new CanonicalJsonError(`${path}: symbol keys are not JSON`);
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(k), ':');
      write(record[k], `${path}.${k}`, out, seen);
    });
    out.push('}');
  }
  seen.delete(obj);
}
