/**
 * Human rendering of a plan, in the manner of `terraform plan`: per group, `+`/`-`
 * lines with user and reason, then kept members, then warnings, then the one-line
 * summary `Plan: N to add, M to remove, K kept.`
 */
import type { ChalkInstance } from 'chalk';
import type { Change, KeptMember, Warning } from '../../core/types.js';
import type { PlanFile } from '../../plan/types.js';
import { plural } from '../../plural.js';

export interface TextRenderOptions {
  chalk: ChalkInstance;
  /** Show every kept member instead of a count per group. */
  verboseKept?: boolean;
}

function groupBy<T extends { groupGuid: string }>(items: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const list = m.get(it.groupGuid);
    if (list) list.push(it);
    else m.set(it.groupGuid, [it]);
  }
  return m;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function summaryLine(plan: Pick<PlanFile, 'summary'>): string {
  const { add, remove, kept } = plan.summary;
  return `Plan: ${add} to add, ${remove} to remove, ${kept} kept.`;
}

export function renderWarningsText(warnings: Warning[], c: ChalkInstance): string[] {
  if (warnings.length === 0) return [];
  const lines = ['', c.yellow.bold(`Warnings (${warnings.length}):`)];
  for (const w of warnings) {
    lines.push(`  ${c.yellow('!')} ${c.yellow(w.code)}  ${w.message}`);
  }
  return lines;
}

export function renderPlanText(plan: PlanFile, opts: TextRenderOptions): string {
  const c = opts.chalk;
  const lines: string[] = [];
  const changesByGroup = groupBy<Change>(plan.changes);
  const keptByGroup = groupBy<KeptMember>(plan.kept);

  if (plan.changes.length === 0) {
    lines.push(c.green('No changes. HelloID resource-owner groups match Exchange FullAccess.'));
  } else {
    lines.push(`ownersync will make the following changes in HelloID (${plan.target.helloidBaseUrl}):`);
    lines.push(`  ${c.green('+')} add member   ${c.red('-')} remove member`);
    for (const g of plan.groups) {
      const changes = changesByGroup.get(g.groupGuid) ?? [];
      lines.push('');
      lines.push(c.bold(`  # ${g.groupName}`) + c.dim(`  (mailbox ${g.mailbox}, ${g.observedMembers.length} → ${plural(g.plannedMembers.length, 'member')})`));
      const width = Math.min(48, Math.max(...changes.map((x) => x.userName.length)));
      for (const ch of changes) {
        const sign = ch.action === 'add' ? c.green('+') : c.red('-');
        const name = ch.action === 'add' ? c.green(pad(ch.userName, width)) : c.red(pad(ch.userName, width));
        lines.push(`  ${sign} ${name}  ${c.dim(ch.reason)}`);
      }
    }
  }

  if (plan.kept.length > 0) {
    lines.push('');
    lines.push(c.bold(`Kept (${plan.kept.length}): current members without FullAccess that this plan leaves in place`));
    const groups = [...keptByGroup.values()].sort((a, b) => cmp(a[0]!.groupName, b[0]!.groupName));
    for (const list of groups) {
      const first = list[0]!;
      if (opts.verboseKept) {
        lines.push(`  # ${first.groupName}`);
        for (const k of list) lines.push(`  ${c.cyan('~')} ${k.userName}  ${c.dim(k.reason)}`);
      } else {
        const reasons = [...new Set(list.map((k) => k.reason))].join('; ');
        lines.push(`  ${c.cyan('~')} ${first.groupName}: ${list.length} kept (${reasons})`);
      }
    }
  }

  lines.push(...renderWarningsText(plan.warnings, c));

  if (plan.overrides.length > 0) {
    lines.push('');
    lines.push(c.magenta.bold('Overrides recorded in this plan:'));
    for (const o of plan.overrides) {
      for (const v of o.violations) lines.push(`  ${c.magenta('!')} --override-limits: ${v.message}`);
    }
  }

  if (plan.exchangeChanges) {
    lines.push('');
    lines.push(c.bold('Changes in Exchange since the previous desired state:'));
    for (const l of plan.exchangeChanges.split('\n')) {
      if (l.startsWith('+') && !l.startsWith('+++')) lines.push(c.green(l));
      else if (l.startsWith('-') && !l.startsWith('---')) lines.push(c.red(l));
      else lines.push(c.dim(l));
    }
  }

  lines.push('');
  lines.push(c.bold(summaryLine(plan)));
  return lines.join('\n') + '\n';
}

function cmp(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}
