/**
 * The tenant fixture: the demo validates against the schema, problems name the file
 * and path, guids are derived deterministically, and the generator's output loads.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { FIXTURE_SCHEMA_URL, FixtureError, deterministicGuid, loadFixture, validateFixture } from '../../src/emulator/index.js';
import { buildModel } from '../../src/emulator/model.js';
import { generateTenant } from '../../bench/generate-tenant.js';
import { DEMO_FIXTURE, DEMO_TENANT } from './helpers.js';

describe('tenant fixture', () => {
  it('the demo tenant validates against schemas/tenant-fixture.schema.json', () => {
    // Independently of loadFixture: plain ajv over the raw YAML.
    const schema = JSON.parse(readFileSync(FIXTURE_SCHEMA_URL, 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const data = parse(readFileSync(DEMO_FIXTURE, 'utf8'));
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true);

    const fx = loadFixture(DEMO_FIXTURE);
    expect(fx.tenant.id).toBe(DEMO_TENANT);
    const m = buildModel(fx, DEMO_FIXTURE);
    expect(m.exchange.mailboxes.filter((r) => r.recipientTypeDetails === 'SharedMailbox')).toHaveLength(20);
    expect(m.exchange.users.filter((r) => r.kind === 'user')).toHaveLength(60);
    expect(m.helloid.users).toHaveLength(59);
    expect(m.helloid.groups).toHaveLength(23);
    // Credentials stay obviously fake.
    expect(fx.apps[0]!.secret).toBe('demo-secret-not-real');
  });

  it('derives stable guids when the fixture names none', () => {
    const a = buildModel(loadFixture(DEMO_FIXTURE), 'a');
    const b = buildModel(loadFixture(DEMO_FIXTURE), 'b');
    const fin = (m: typeof a) => m.exchange.mailboxIndex.get('finance@contoso.com')!;
    expect(fin(a).guid).toBe(fin(b).guid);
    expect(fin(a).guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicGuid('x', 'Name')).toBe(deterministicGuid('x', 'name'));
    // Same name, different source: different guids.
    const legal = a.helloid.groups.filter((g) => g.name === 'Legal Resource Owners');
    expect(legal).toHaveLength(2);
    expect(legal[0]!.groupGuid).not.toBe(legal[1]!.groupGuid);
  });

  it('reports every schema problem with the file and JSON path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fx-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'tenant: { id: not-a-guid, organization: x.onmicrosoft.com }',
        'apps: [{ clientId: 00000000-0000-4000-8000-000000000002, secret: s, colour: blue }]',
        'exchange:',
        '  mailboxes:',
        '    - { displayName: A, primarySmtpAddress: a@x.com, type: weird }',
      ].join('\n'),
    );
    let err: unknown;
    try {
      loadFixture(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FixtureError);
    const problems = (err as FixtureError).problems;
    expect(problems.every((p) => p.startsWith(`${file}: `))).toBe(true);
    expect(problems.join('\n')).toContain('/tenant/id');
    expect(problems.join('\n')).toContain("/apps/0: unknown property 'colour'");
    expect(problems.join('\n')).toContain('/exchange/mailboxes/0/type');
  });

  it('reports dangling references (group members, HelloID members)', () => {
    const fx = {
      tenant: { id: '00000000-0000-4000-8000-000000000009', organization: 'x.onmicrosoft.com' },
      apps: [{ clientId: '00000000-0000-4000-8000-00000000000a', secret: 's' }],
      exchange: { groups: [{ name: 'G', type: 'security' as const, members: ['nobody@x.com'] }] },
      helloid: { apiKeys: [{ key: 'k', secret: 's' }], groups: [{ name: 'H', members: ['ghost'] }] },
    };
    expect(() => buildModel(validateFixture(fx, 'mem.yaml'), 'mem.yaml')).toThrow(
      /mem\.yaml: \/exchange\/groups\/0\/members\/0: no user, mailbox or group 'nobody@x.com'[\s\S]*\/helloid\/groups\/0\/members\/0: no HelloID user 'ghost'/,
    );
  });

  it('a missing or unparsable file is a FixtureError naming the path', () => {
    expect(() => loadFixture('/nonexistent/f.yaml')).toThrow(/\/nonexistent\/f\.yaml: cannot read fixture/);
    const dir = mkdtempSync(join(tmpdir(), 'fx-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ nope');
    expect(() => loadFixture(file)).toThrow(/broken\.json: not valid JSON/);
  });

  it('generated fixtures validate, are deterministic per seed, and load from JSON', () => {
    const a = generateTenant({ mailboxes: 30, users: 120, groups: 6, nestingDepth: 2, seed: 3 });
    const b = generateTenant({ mailboxes: 30, users: 120, groups: 6, nestingDepth: 2, seed: 3 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(generateTenant({ mailboxes: 30, users: 120, seed: 4 }))).not.toBe(JSON.stringify(a));
    const dir = mkdtempSync(join(tmpdir(), 'fx-'));
    const file = join(dir, 'gen.json');
    writeFileSync(file, JSON.stringify(a));
    const m = buildModel(loadFixture(file), file);
    expect(m.exchange.mailboxes).toHaveLength(30 + 120);
    expect(m.helloid.groups).toHaveLength(40);
  });
});
