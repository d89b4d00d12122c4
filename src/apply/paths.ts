/** Files apply keeps beside the plan: `<plan>.journal.jsonl`, `<plan>.receipt.json`, `<plan>.lock`. */

export function journalPathFor(planPath: string): string {
  return `${planPath}.journal.jsonl`;
}

export function receiptPathFor(planPath: string): string {
  return `${planPath}.receipt.json`;
}

export function lockPathFor(planPath: string): string {
  return `${planPath}.lock`;
}
