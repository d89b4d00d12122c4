/**
 * Markdown rendering for pull-request comments and `$GITHUB_STEP_SUMMARY`: counts
 * first, one collapsible section per group, and never more than a comment can hold
 * (GitHub rejects bodies over 65,536 characters), with a truncation notice that
 * points at the plan artifact.
 */
import type { Change } from '../../core/types.js';
import { approvalStatuses, describeApproval, type ApprovalStatus } from '../../plan/approval-status.js';
import type { PlanFile } from '../../plan/types.js';
import { plural } from '../../plural.js';

/** GitHub's comment limit is 65,536; stay clear of it. */
export const MARKDOWN_LIMIT = 65_000;

function esc(s: string): string {
  return s.replace(/[|\\`*_<>[\]]/g, (ch) => `\\${ch}`);
}

/**
 * For text inside raw HTML (the <summary> lines). A line that starts with <details> is
 * an HTML block, where Markdown backslash escapes are not processed: `esc` would show
 * "shared\_finance" literally. Entities are decoded there, so escape as HTML.
 */
function escHtml(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] as string);
}

/**
 * `opts.intact`: whether the plan still hashes to its digest (the caller checks once).
 * `opts.approvals`: each approval's worth, as the caller verified it (show); without
 * it, SSH-signed approvals are listed as not verified.
 */
export function renderPlanMarkdown(plan: PlanFile, opts: { intact: boolean; limit?: number; artifactHint?: string; approvals?: ApprovalStatus[] }): string {
  const limit = opts.limit ?? MARKDOWN_LIMIT;
  const { add, remove, kept } = plan.summary;
  const head: string[] = [];
  head.push('## ownersync plan');
  head.push('');
  head.push(`**${add} to add, ${remove} to remove, ${kept} kept** · ${plural(plan.groups.length, 'group')} affected · ${plural(plan.warnings.length, 'warning')}`);
  head.push('');
  head.push(`| | |`);
  head.push(`|---|---|`);
  head.push(`| HelloID | ${esc(plan.target.helloidBaseUrl)} |`);
  head.push(`| Exchange tenant | \`${plan.target.exchangeTenantId}\` |`);
  head.push(`| Digest | \`${plan.digest}\` |`);
  head.push(`| Created | ${plan.createdAt} |`);
  head.push(`| Expires | ${plan.expiresAt} |`);
  const approvals = opts.approvals ?? approvalStatuses(plan);
  head.push(`| Approvals | ${approvals.map((s) => esc(describeApproval(s))).join(', ') || 'none yet'} |`);
  head.push('');
  if (!opts.intact) {
    head.push('> [!CAUTION]');
    head.push('> This plan file was **modified after it was planned**: its content no longer matches its digest, and `ownersync apply` will refuse it.');
    head.push('');
  }
  if (plan.overrides.length > 0) {
    head.push('> [!WARNING]');
    head.push('> This plan was made with `--override-limits`:');
    for (const o of plan.overrides) for (const v of o.violations) head.push(`> - ${esc(v.message)}`);
    head.push('');
  }
  if (plan.changes.length === 0) head.push('No changes: HelloID resource-owner groups match Exchange FullAccess.', '');

  const sections: string[] = [];
  // Warnings first: an incomplete read or an unresolved trustee is what a reviewer must
  // not miss, so it is never the part truncation cuts. Capped so it cannot crowd out
  // every group on its own.
  if (plan.warnings.length > 0) {
    const cap = Math.floor(limit / 3);
    const s = [`<details open><summary><b>Warnings (${plan.warnings.length})</b></summary>`, ''];
    let size = 0;
    let shown = 0;
    for (const w of plan.warnings) {
      const line = `- \`${w.code}\` ${esc(w.message)}`;
      if (size + line.length > cap) break;
      s.push(line);
      size += line.length + 1;
      shown++;
    }
    if (shown < plan.warnings.length) s.push(`- … and ${plan.warnings.length - shown} more (see ${opts.artifactHint ?? 'the plan.yaml artifact'})`);
    s.push('', '</details>', '');
    sections.push(s.join('\n'));
  }
  const byGroup = new Map<string, Change[]>();
  for (const ch of plan.changes) {
    const l = byGroup.get(ch.groupGuid);
    if (l) l.push(ch);
    else byGroup.set(ch.groupGuid, [ch]);
  }
  for (const g of plan.groups) {
    const changes = byGroup.get(g.groupGuid) ?? [];
    const a = changes.filter((c) => c.action === 'add').length;
    const r = changes.length - a;
    const s: string[] = [];
    s.push(`<details><summary><b>${escHtml(g.groupName)}</b> — +${a} −${r} (mailbox ${escHtml(g.mailbox)})</summary>`);
    s.push('');
    s.push('```diff');
    for (const ch of changes) s.push(`${ch.action === 'add' ? '+' : '-'} ${ch.userName}  # ${ch.reason}`);
    s.push('```');
    s.push('</details>');
    s.push('');
    sections.push(s.join('\n'));
  }
  if (plan.exchangeChanges) {
    sections.push(['<details><summary><b>Changes in Exchange since the previous desired state</b></summary>', '', '```diff', plan.exchangeChanges.replace(/```/g, "'''"), '```', '</details>', ''].join('\n'));
  }

  const hint = opts.artifactHint ?? 'the plan.yaml artifact';
  let out = head.join('\n') + '\n';
  let omitted = 0;
  const notice = (n: number) => `\n> [!NOTE]\n> Truncated: ${n} more section(s) not shown (this comment is limited to ${limit.toLocaleString('en-US')} characters). See ${hint} for the full plan.\n`;
  for (let i = 0; i < sections.length; i++) {
    const sec = sections[i]!;
    if (out.length + sec.length + notice(sections.length).length > limit) {
      omitted = sections.length - i;
      break;
    }
    out += sec;
  }
  if (omitted > 0) out += notice(omitted);
  return out;
}
