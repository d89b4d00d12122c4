/**
 * Pseudonymisation keeps the structure the sync engine depends on (spec §3.3–3.5):
 * case-insensitive UPN/name matches still match, the diacritics fallback still falls
 * back, owner-group names still compose from prefix + DisplayName + suffix, SIDs and
 * GUIDs keep their shape, system trustees stay. Expectations are written by hand; the
 * engine's own key functions (core/naming.ts) are used as the judge of "still matches".
 */
import { describe, expect, it } from 'vitest';
import { exactNameKey, foldedNameKey, isSystemTrustee } from '../../src/core/index.js';
import { PSEUDO_GUID, PSEUDO_SID, PSEUDONYM_DOMAIN, Pseudonymiser } from '../../src/transcript/pseudonym.js';

const make = (o: { groupPrefix?: string; groupSuffix?: string } = {}) =>
  new Pseudonymiser({ groupSuffix: ' Resource Owners', ...o, origins: { exchange: 'https://outlook.office365.com', helloid: 'https://contoso.helloid.com' } });

describe('Pseudonymiser', () => {
  it('changes a name but keeps its length, case pattern and word boundaries', () => {
    const p = make();
    const out = p.value('Anna Jansen');
    expect(out).not.toContain('Anna');
    expect(out).not.toContain('Jansen');
    expect(out).toMatch(/^[A-Z][a-z]{3} [A-Z][a-z]{5}$/);
  });

  it('is stable within one recording and differs between recordings (random key)', () => {
    const p = make();
    expect(p.value('Anna Jansen')).toBe(p.value('Anna Jansen'));
    expect(make().value('Anna Jansen')).not.toBe(p.value('Anna Jansen'));
  });

  it('"Anna" and "anna" differ only in case', () => {
    const p = make();
    const a = p.value('Anna');
    const b = p.value('anna');
    expect(a).not.toBe(b);
    expect(a.toLowerCase()).toBe(b);
    expect(exactNameKey(p.value('Chris.Peters@contoso.com'))).toBe(exactNameKey(p.value('chris.peters@contoso.com')));
  });

  it('keeps diacritics, and the folded pseudonym is the pseudonym of the folded name', () => {
    const p = make();
    const accented = p.value('Café Bestellingen');
    const plain = p.value('Cafe Bestellingen');
    expect(accented).not.toBe(plain);
    expect(accented.normalize('NFD')).toMatch(/\u0301/); // the acute accent survives
    expect(foldedNameKey(accented)).toBe(foldedNameKey(plain));
    expect(exactNameKey(accented)).not.toBe(exactNameKey(plain)); // the exact pass still does not match
    // Precomposed and decomposed é give the same name after NFC, as the engine compares.
    expect(exactNameKey(p.value('Caf\u00e9'))).toBe(exactNameKey(p.value('Cafe\u0301')));
  });

  it('owner-group names compose: P(prefix + DisplayName + suffix) = prefix + P(DisplayName) + suffix', () => {
    const p = make({ groupPrefix: 'RO-' });
    expect(p.value('RO-Sales Resource Owners')).toBe(`RO-${p.value('Sales')} Resource Owners`);
    expect(p.value('ro-sales resource owners').toLowerCase()).toBe(`ro-${p.value('Sales')} resource owners`.toLowerCase());
    // A DisplayName that itself ends in the suffix.
    expect(p.value('RO-Team Resource Owners Resource Owners')).toBe(`RO-${p.value('Team Resource Owners')} Resource Owners`);
    // Word by word: "Sales" inside another name is the same word.
    expect(p.value('Sales Team')).toBe(`${p.value('Sales')} ${p.value('Team')}`);
  });

  it('addresses stay addresses in the pseudonym domain, sharing words with names', () => {
    const p = make();
    const a = p.value('anna.jansen@contoso.com');
    expect(a).toMatch(new RegExp(`^[a-z]{4}\\.[a-z]{6}@[a-z]+\\.[a-z]+\\.${PSEUDONYM_DOMAIN.replace('.', '\\.')}$`));
    expect(a.split('@')[0]).toBe(p.value('anna jansen').replace(' ', '.'));
  });

  it('GUIDs stay GUIDs with the version-8 marker, case kept', () => {
    const p = make();
    const g = p.value('00000000-0000-4000-8000-000000000001');
    expect(g).toMatch(PSEUDO_GUID);
    expect(p.value('00000000-0000-4000-8000-00000000000A')).not.toBe(g);
    expect(p.value('ABCDEF00-0000-4000-8000-000000000001')).toBe(p.value('abcdef00-0000-4000-8000-000000000001').toUpperCase());
  });

  it('SIDs stay SIDs, system trustees stay as they are, DOMAIN\\name keeps its form', () => {
    const p = make();
    const sid = p.value('S-1-5-21-1004336348-1177238915-682003330-1001');
    expect(sid).toMatch(PSEUDO_SID);
    expect(isSystemTrustee(sid)).toBe(true);
    expect(p.value('S-1-5-21-1004336348-1177238915-682003330-1002').split('-').slice(0, 7)).toEqual(sid.split('-').slice(0, 7));
    expect(p.value('NT AUTHORITY\\SELF')).toBe('NT AUTHORITY\\SELF');
    expect(p.value('NAMPR01A001\\Organization Management')).toBe('NAMPR01A001\\Organization Management');
    expect(p.value('EURPR05A002\\View-Only Organization Management')).toBe('EURPR05A002\\View-Only Organization Management');
    const dn = p.value('CONTOSO\\jdoe');
    expect(dn).toMatch(/^[A-Z]{7}\\[a-z]{4}$/);
    expect(dn).not.toContain('jdoe');
  });

  it('never maps two different words to the same pseudonym', () => {
    const p = make();
    const seen = new Map<string, string>();
    for (let i = 0; i < 26 * 26; i++) {
      const w = String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + Math.floor(i / 26));
      const out = p.value(w);
      expect(seen.get(out) ?? w).toBe(w);
      seen.set(out, w);
    }
  });

  it('free text: quoted names and addresses/GUIDs are replaced, exception types and contractions kept', () => {
    const p = make();
    const msg = "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'SG-HR Team' couldn't be found on 'anna@contoso.com'.";
    const out = p.text(msg);
    expect(out).toContain('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException');
    expect(out).toContain("couldn't be performed because object '");
    expect(out).toContain(`'${p.value('SG-HR Team')}'`);
    expect(out).not.toContain('contoso');
    expect(p.text("DisplayName -like 'Shared-*'")).toBe(`DisplayName -like '${p.value('Shared')}-*'`);
  });

  it('URLs: configured origins become pseudonym hosts, GUIDs in the path and $skiptoken are replaced consistently', () => {
    const p = make();
    const u = 'https://outlook.office365.com/adminapi/beta/00000000-0000-4000-8000-000000000001/InvokeCommand?$skiptoken=abc123';
    const out = p.url(u);
    expect(out.startsWith(`https://exchange.${PSEUDONYM_DOMAIN}/adminapi/beta/`)).toBe(true);
    expect(out).toContain(p.value('00000000-0000-4000-8000-000000000001'));
    expect(out).not.toContain('abc123');
    expect(p.url(u)).toBe(out);
    expect(p.url('https://contoso.helloid.com/api/v1/users?skip=0&take=1000')).toBe(`https://helloid.${PSEUDONYM_DOMAIN}/api/v1/users?skip=0&take=1000`);
  });
});
