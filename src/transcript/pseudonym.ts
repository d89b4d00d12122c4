/**
 * Pseudonymisation for field transcripts: personal data and tenant identifiers are
 * replaced by stable stand-ins, keyed with HMAC-SHA256 under a random per-recording
 * key that is never written anywhere, so one recording is consistent with itself and
 * cannot be linked to another or reversed.
 *
 * The stand-ins keep the shape the sync engine depends on:
 *
 *  - a word keeps its length, its letter/digit positions, the case of every letter and
 *    every combining mark. The letters come from the word folded to lower case without
 *    marks, so "Anna" and "anna" differ only in case, and fold("Renée") gives exactly
 *    the pseudonym of "Renee": the case-insensitive match and the diacritics fallback
 *    of owner-group names (core/naming.ts) decide the same way on pseudonyms;
 *  - names are done word by word, after the configured groupPrefix/groupSuffix are set
 *    aside, so the owner group "Sales Resource Owners" becomes P(Sales) + " Resource
 *    Owners", the mailbox DisplayName "Sales" becomes P(Sales), and they still match;
 *  - an address stays an address (local part word by word, domain word by word under
 *    PSEUDONYM_DOMAIN), a GUID stays a GUID (version nibble 8, see PSEUDO_GUID), a
 *    domain SID stays S-1-5-21-0-… (first sub-authority 0 marks it), `DOMAIN\name`
 *    keeps its backslash; `NT AUTHORITY\…`, Exchange Online's forest admin groups
 *    (`NAMPR01A001\Organization Management`) and well-known SIDs stay as they are;
 *  - the configured endpoints' origins become fixed pseudonym hosts, and `$skiptoken`
 *    values become opaque stand-ins (a real one may encode an object name).
 *
 * Distinct words always get distinct pseudonyms (collisions are detected and re-drawn),
 * so two users never merge into one.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Every pseudonymised address ends in this domain (RFC 2606 reserves .invalid). */
export const PSEUDONYM_DOMAIN = 'pseudonym.invalid';

/** A pseudonym GUID: version nibble 8 (RFC 9562 "custom"), variant 10xx. Real Entra/Exchange/HelloID GUIDs are v4 (emulator: v5). */
export const PSEUDO_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A pseudonym domain SID: first sub-authority 0. */
export const PSEUDO_SID = /^S-1-5-21-0-\d+-\d+(?:-\d+)?$/i;

/** The pseudonym origin of each configured endpoint. */
export const PSEUDO_ORIGINS = {
  exchange: `https://exchange.${PSEUDONYM_DOMAIN}`,
  helloid: `https://helloid.${PSEUDONYM_DOMAIN}`,
  entra: `https://login.${PSEUDONYM_DOMAIN}`,
} as const;

export const GUID_RE = /[{(]?\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b[})]?/;
export const SID_RE = /\bS-1-5-21(?:-\d+){3,4}\b/i;
export const ADDRESS_RE = /[\p{L}\p{N}._%+'-]*[\p{L}\p{N}_%+-]@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/u;
const URL_RE = /https?:\/\/[^\s"'<>|]+/;

/** A single-quoted segment in free text: 'x' after a space/start, closed before a space/end/punctuation ("couldn't" is not one). */
const QUOTED = /(^|[\s(=:,])'([^'\n]+)'(?=$|[\s).,:;!?])/g;

/** One pass over a string: URLs, addresses, SIDs, GUIDs (and, in name mode, words). */
const SHAPES = new RegExp(`(${URL_RE.source})|(${ADDRESS_RE.source})|(${SID_RE.source})|(${GUID_RE.source})`, 'giu');
const TEXT = new RegExp(`${QUOTED.source}|${SHAPES.source}`, 'giu');
const SHAPES_AND_WORDS = new RegExp(`${SHAPES.source}|([\\p{L}\\p{M}\\p{N}]+)`, 'giu');

/** `NT AUTHORITY\…` and Exchange Online's own forest groups, e.g. `NAMPR01A001\…`, `EURPR05A002\…` (spec §3.2). */
const SYSTEM_TRUSTEE = /^(?:NT AUTHORITY|[A-Z]{2,5}PR\d{2}A\d{3})\\/i;


export interface PseudonymOptions {
  /** groupPrefix / groupSuffix: set aside in names so owner-group names compose. */
  groupPrefix?: string;
  groupSuffix?: string;
  /** Quoted words in free text kept as they are (case-insensitively): config words such as the groupSource. */
  keep?: string[];
  /** The configured endpoints (any URL; only the origin counts). */
  origins?: { exchange?: string; helloid?: string; entra?: string };
  /** Test hook: a fixed key. Recordings always use a random one. */
  key?: Buffer;
}

const isMark = (ch: string): boolean => /\p{M}/u.test(ch);
const isDigit = (ch: string): boolean => ch >= '0' && ch <= '9';

export class Pseudonymiser {
  private readonly key: Buffer;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly origins: Array<[string, string]> = [];
  private readonly keep: Set<string>;
  /** folded word → pseudonym letters, and back (for collision checks). */
  private readonly words = new Map<string, string>();
  private readonly usedWords = new Map<string, string>();
  private readonly cache = new Map<string, string>();

  constructor(options: PseudonymOptions = {}) {
    this.key = options.key ?? randomBytes(32);
    this.prefix = options.groupPrefix ?? '';
    this.suffix = options.groupSuffix ?? '';
    this.keep = new Set((options.keep ?? []).map((k) => k.toLowerCase()));
    for (const [service, url] of Object.entries(options.origins ?? {})) {
      if (!url) continue;
      try {
        const origin = new URL(url).origin;
        if (!this.origins.some(([o]) => o === origin)) this.origins.push([origin, PSEUDO_ORIGINS[service as keyof typeof PSEUDO_ORIGINS]]);
      } catch {
        // not a URL: nothing to replace
      }
    }
  }

  private hmac(...parts: string[]): Buffer {
    return createHmac('sha256', this.key).update(parts.join('\u0000')).digest();
  }

  /** The pseudonym of a folded (lower-case, unmarked) word: same length, digits for digits, a–z for the rest. */
  private foldedWord(folded: string): string {
    const known = this.words.get(folded);
    if (known !== undefined) return known;
    const chars = [...folded];
    for (let round = 0; ; round++) {
      const bytes: number[] = [];
      for (let block = 0; bytes.length < chars.length; block++) bytes.push(...this.hmac('w', folded, String(round), String(block)));
      let out = chars.map((c, i) => (isDigit(c) ? String(bytes[i]! % 10) : String.fromCharCode(97 + (bytes[i]! % 26)))).join('');
      // Short words can run out of stand-ins of their own length: grow by a letter.
      if (round >= 50) out += String.fromCharCode(97 + (bytes[0]! % 26)).repeat(Math.floor(round / 50));
      const owner = this.usedWords.get(out);
      if (owner === undefined || owner === folded) {
        this.words.set(folded, out);
        this.usedWords.set(out, folded);
        return out;
      }
    }
  }

  /** One word (letters, marks, digits): case and combining marks kept position by position. */
  word(w: string): string {
    const nfd = w.normalize('NFD');
    const bases: string[] = [];
    const marks: string[] = [];
    for (const ch of nfd) {
      if (isMark(ch) && bases.length > 0) marks[bases.length - 1] += ch;
      else {
        bases.push(ch);
        marks.push('');
      }
    }
    const folded = bases.map((b) => (b.toLowerCase().length === b.length ? b.toLowerCase() : b)).join('');
    const p = [...this.foldedWord(folded)];
    let out = '';
    for (let i = 0; i < p.length; i++) {
      const b = bases[i];
      const upper = b !== undefined && b !== b.toLowerCase();
      out += (upper ? p[i]!.toUpperCase() : p[i]!) + (marks[i] ?? '');
    }
    return w === w.normalize('NFC') ? out.normalize('NFC') : out;
  }

  /** A GUID: keyed on its lower-case form, case pattern and braces kept, version 8. */
  guid(g: string): string {
    const open = /^[{(]/.test(g) ? g[0]! : '';
    const close = /[})]$/.test(g) ? g[g.length - 1]! : '';
    const core = g.slice(open.length, g.length - close.length);
    const b = this.hmac('g', core.toLowerCase()).subarray(0, 16);
    b[6] = (b[6]! & 0x0f) | 0x80;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const x = b.toString('hex');
    let out = `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
    if (core === core.toUpperCase() && /[A-F]/.test(core)) out = out.toUpperCase();
    return open + out + close;
  }

  /** A domain SID S-1-5-21-a-b-c[-rid]: same domain → same pseudo domain 0-x-y; the RID keyed with it. */
  sid(s: string): string {
    const parts = s.split('-');
    const domain = parts.slice(4, 7).join('-');
    const d = this.hmac('sid', domain);
    let out = `S-1-5-21-0-${d.readUInt32BE(0)}-${d.readUInt32BE(4)}`;
    if (parts.length > 7) out += `-${1000 + (this.hmac('rid', domain, parts.slice(7).join('-')).readUInt32BE(0) % 1_000_000_000)}`;
    return s.startsWith('s') ? out.toLowerCase() : out;
  }

  /** An address: local part and domain word by word, the domain moved under PSEUDONYM_DOMAIN. */
  address(a: string): string {
    const at = a.lastIndexOf('@');
    const local = a.slice(0, at);
    const domain = a.slice(at + 1);
    if (domain.toLowerCase().endsWith(`.${PSEUDONYM_DOMAIN}`)) return a;
    return `${this.words_(local)}@${this.domain(domain)}`;
  }

  /** A DNS domain: word by word, moved under PSEUDONYM_DOMAIN (as in addresses). */
  domain(d: string): string {
    if (d.toLowerCase().endsWith(`.${PSEUDONYM_DOMAIN}`)) return d;
    return `${this.words_(d)}.${PSEUDONYM_DOMAIN}`;
  }

  /** Every word of `s` pseudonymised, separators kept. */
  private words_(s: string): string {
    return s.replace(/[\p{L}\p{M}\p{N}]+/gu, (w) => this.word(w));
  }

  /** A URL: configured origins → pseudonym hosts; path and query by shape; $skiptoken → opaque stand-in. */
  url(u: string): string {
    let origin = '';
    let rest = u;
    const m = /^https?:\/\/[^/?#]+/i.exec(u);
    if (m) {
      origin = m[0];
      rest = u.slice(origin.length);
      const known = this.origins.find(([o]) => o.toLowerCase() === origin.toLowerCase());
      if (known) origin = known[1];
      else origin = origin.replace(/@/g, '%40');
    }
    const q = rest.indexOf('?');
    const path = q < 0 ? rest : rest.slice(0, q);
    const query = q < 0 ? '' : rest.slice(q + 1);
    const segments = path.split('/');
    const outPath = segments
      .map((seg, i) => {
        const prev = (segments[i - 1] ?? '').toLowerCase();
        let decoded = seg;
        try {
          decoded = decodeURIComponent(seg);
        } catch {
          // keep as is
        }
        // HelloID addresses objects by GUID (or name) after /users/ and /groups/.
        const out = prev === 'users' || prev === 'groups' ? this.value(decoded) : this.shapes(decoded);
        return out === decoded ? seg : encodeURIComponent(out);
      })
      .join('/');
    const outQuery = query
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return pair;
        const name = pair.slice(0, eq);
        const raw = pair.slice(eq + 1);
        let v = raw;
        try {
          v = decodeURIComponent(raw.replace(/\+/g, ' '));
        } catch {
          // keep
        }
        const out = /^\$?skiptoken$/i.test(name) ? this.opaque(v) : this.shapes(v);
        return out === v ? pair : `${name}=${encodeURIComponent(out)}`;
      })
      .join('&');
    return origin + outPath + (q < 0 ? '' : `?${outQuery}`);
  }

  /** An opaque token (a page link's $skiptoken): a short keyed stand-in. */
  opaque(v: string): string {
    return `pt${this.hmac('t', v).subarray(0, 8).toString('hex')}`;
  }

  /** Shapes only: URLs, addresses, SIDs and GUIDs anywhere in `s`; everything else kept. */
  shapes(s: string): string {
    return s.replace(SHAPES, (m, url?: string, addr?: string, sid?: string, guid?: string) => {
      if (url) return this.url(url);
      if (addr) return this.address(addr);
      if (sid) return this.sid(sid);
      if (guid) return this.guid(guid);
      return m;
    });
  }

  /** A name: groupPrefix/groupSuffix set aside, then shapes and words. */
  name(s: string): string {
    let head = '';
    let tail = '';
    let mid = s;
    // Repeatedly, so that a DisplayName that itself ends in the suffix still composes.
    for (let changed = true; changed; ) {
      changed = false;
      if (this.prefix && mid.length > this.prefix.length && mid.toLowerCase().startsWith(this.prefix.toLowerCase())) {
        head += mid.slice(0, this.prefix.length);
        mid = mid.slice(this.prefix.length);
        changed = true;
      }
      if (this.suffix && mid.length > this.suffix.length && mid.toLowerCase().endsWith(this.suffix.toLowerCase())) {
        tail = mid.slice(mid.length - this.suffix.length) + tail;
        mid = mid.slice(0, mid.length - this.suffix.length);
        changed = true;
      }
    }
    const out = mid.replace(SHAPES_AND_WORDS, (m, url?: string, addr?: string, sid?: string, guid?: string, word?: string) => {
      if (url) return this.url(url);
      if (addr) return this.address(addr);
      if (sid) return this.sid(sid);
      if (guid) return this.guid(guid);
      if (word) return this.word(word);
      return m;
    });
    return head + out + tail;
  }

  /**
   * A personal value, by its shape: GUID, SID, system trustee (kept), address,
   * `DOMAIN\name`, or a name. The same string always gets the same pseudonym,
   * whichever field it came from, so a request's Identity matches the reply it came from.
   */
  value(s: string): string {
    const hit = this.cache.get(s);
    if (hit !== undefined) return hit;
    let out: string;
    const t = s.trim();
    if (t === '') out = s;
    else if (new RegExp(`^${GUID_RE.source}$`).test(t)) out = s.replace(t, this.guid(t));
    else if (new RegExp(`^${SID_RE.source}$`, 'i').test(t)) out = s.replace(t, this.sid(t));
    else if (/^S-1-\d+(-\d+)*$/i.test(t) || SYSTEM_TRUSTEE.test(t)) out = s;
    else if (new RegExp(`^${ADDRESS_RE.source}$`, 'u').test(t)) out = s.replace(t, this.address(t));
    else if (/^[^\\\s]+\\[^\\]+$/.test(t)) {
      const i = t.indexOf('\\');
      out = s.replace(t, `${this.words_(t.slice(0, i))}\\${this.name(t.slice(i + 1))}`);
    } else out = this.name(s);
    if (this.cache.size < 200_000) this.cache.set(s, out);
    return out;
  }

  /** Free text (messages, filters, warnings): shapes, plus names in single quotes ("object 'x' couldn't be found"). */
  text(s: string): string {
    return s.replace(TEXT, (m, lead?: string, inner?: string, url?: string, addr?: string, sid?: string, guid?: string) => {
      if (inner !== undefined) return `${lead ?? ''}'${this.keep.has(inner.toLowerCase()) ? inner : this.value(inner)}'`;
      if (url) return this.url(url);
      if (addr) return this.address(addr);
      if (sid) return this.sid(sid);
      if (guid) return this.guid(guid);
      return m;
    });
  }
}
