/**
 * Counted nouns for output: "1 member", "2 members". One helper so no message says
 * "1 members" again; irregular plurals are passed in.
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
