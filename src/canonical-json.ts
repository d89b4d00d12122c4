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
  writeCanonicalJson(value, (text) => out.push(text));
  return out.join('');
}

/**
 * The same text, handed to `sink` piece by piece in order (the plan digest hashes it
 * as it comes: a large plan's canonical form is then never held as millions of pieces
 * and one long string). Throws CanonicalJsonError like canonicalJson.
 */
export function writeCanonicalJson(value: unknown, sink: (text: string) => void): void {
  // The path of the value being written, as segments ('$', '.key', '[3]'): joined only
  // for an error message, so a large value does not cost a path string per element.
  write(value, ['$'], sink, new Set());
}

function write(value: unknown, path: string[], out: (text: string) => void, seen: Set<object>): void {
  const at = (): string => path.join('');
  if (value === null) {
    out('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      out(JSON.stringify(value));
      return;
    case 'boolean':
      out(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${at()}: ${value} is not a JSON number`);
      // JSON.stringify(-0) is "0": one spelling per value.
      out(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${at()}: a ${typeof value} is not a JSON value`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new CanonicalJsonError(`${at()}: circular reference`);
  seen.add(obj);
  if (Array.isArray(obj)) {
    out('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out(',');
      path.push(`[${i}]`);
      // Sparse arrays and undefined elements have no JSON form (JSON.stringify would say null).
      if (!(i in obj) || obj[i] === undefined) throw new CanonicalJsonError(`${at()}: undefined is not a JSON value`);
      write(obj[i], path, out, seen);
      path.pop();
    }
    out(']');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(`${at()}: a ${name} is not a plain JSON object`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) throw new CanonicalJsonError(`${at()}: symbol keys are not JSON`);
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    out('{');
    keys.forEach((k, i) => {
      if (i > 0) out(',');
      out(JSON.stringify(k));
      out(':');
      path.push(`.${k}`);
      write(record[k], path, out, seen);
      path.pop();
    });
    out('}');
  }
  seen.delete(obj);
}
