/**
 * Counted nouns in messages: "1 member", "2 members" (CLI output, progress lines, limit
 * violations). One helper so no message says "1 members" again; irregular plurals are
 * passed in. Pure, so core may use it too.
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
