/**
 * The emulator's in-memory tenant, built once from a validated fixture: Exchange
 * recipients with identity indexes (Map lookups, so a 25,000-recipient tenant serves
 * in O(1) per identity), app registrations with parsed certificates, and the live,
 * mutable HelloID state that writes and out-of-band drift changes act on.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { deterministicGuid, deterministicGuidPair } from './guid.js';
import type { FixtureHelloIdGroup, FixtureHelloIdUser, TenantFixture } from './types.js';

/** A fixture that does not validate or does not hang together; names file and path. */
export class FixtureError extends ConfigError {}

// ---------------------------------------------------------------- Exchange

export interface PermissionRow {
  user: string;
  accessRights: string[];
  isInherited: boolean;
  deny: boolean;
  inheritanceType: string;
}

export interface Recipient {
  kind: 'user' | 'mailbox' | 'group';
  name: string;
  alias: string;
  displayName: string;
  primarySmtpAddress: string;
  userPrincipalName?: string;
  guid: string;
  externalDirectoryObjectId: string;
  recipientType: string;
  recipientTypeDetails: string;
  hasMailbox: boolean;
  /** False for a security group that is not mail-enabled: no recipient, found by Get-Group only. */
  mailEnabled: boolean;
  /** Mailbox permission rows (mailboxes only; may be mutated in place). */
  permissions: PermissionRow[];
  /** Group members (groups only; may be mutated in place). */
  members: Recipient[];
}

/** Case-insensitive identity lookup; strong keys (ids, addresses) win over names. */
export class IdentityIndex {
  private readonly strong = new Map<string, Recipient>();
  private readonly weak = new Map<string, Recipient>();

  add(r: Recipient): void {
    for (const k of [r.guid, r.externalDirectoryObjectId, r.primarySmtpAddress, r.userPrincipalName]) {
      if (k && !this.strong.has(k.toLowerCase())) this.strong.set(k.toLowerCase(), r);
    }
    for (const k of [r.name, r.alias, r.displayName]) {
      if (k && !this.weak.has(k.toLowerCase())) this.weak.set(k.toLowerCase(), r);
    }
  }

  get(identity: string): Recipient | undefined {
    const k = identity.trim().toLowerCase();
    return this.strong.get(k) ?? this.weak.get(k);
  }
}

export class ExchangeModel {
  /** Every directory object, fixture order: users, mailboxes, groups (mail-enabled or not). */
  readonly recipients: Recipient[] = [];
  /** What Get-Recipient lists: the mail-enabled objects. */
  mailRecipients: Recipient[] = [];
  mailboxes: Recipient[] = [];
  users: Recipient[] = [];
  groups: Recipient[] = [];
  mailboxIndex = new IdentityIndex();
  userIndex = new IdentityIndex();
  groupIndex = new IdentityIndex();
  recipientIndex = new IdentityIndex();

  /** Rebuild the lists and indexes after adding or removing recipients. */
  reindex(): void {
    this.mailRecipients = this.recipients.filter((r) => r.mailEnabled);
    this.mailboxes = this.recipients.filter((r) => r.hasMailbox);
    this.users = this.recipients.filter((r) => r.kind !== 'group');
    this.groups = this.recipients.filter((r) => r.kind === 'group');
    this.mailboxIndex = new IdentityIndex();
    this.userIndex = new IdentityIndex();
    this.groupIndex = new IdentityIndex();
    this.recipientIndex = new IdentityIndex();
    for (const r of this.recipients) {
      if (r.mailEnabled) this.recipientIndex.add(r);
      if (r.hasMailbox) this.mailboxIndex.add(r);
      if (r.kind === 'group') this.groupIndex.add(r);
      else this.userIndex.add(r);
    }
  }
}

// ---------------------------------------------------------------- Entra

export interface AppCertificate {
  pem: string;
  publicKey: X509Certificate['publicKey'];
  /** base64url SHA-1 / SHA-256 of the DER, as in the x5t / x5t#S256 JWT headers. */
  x5t: string;
  x5tS256: string;
}

export interface AppRecord {
  clientId: string;
  displayName: string;
  secrets: string[];
  certificates: AppCertificate[];
  roles: string[];
  directoryRoles: string[];
}

// ---------------------------------------------------------------- HelloID

export interface HelloIdUserRecord {
  userGUID: string;
  userName: string;
  firstName: string;
  lastName: string;
  contactEmail: string;
  isEnabled: boolean;
  source: string;
  /** Deleted: not listed, 404 on its own URL, but still a GUID in groups' member lists. */
  isDeleted: boolean;
}

export interface HelloIdGroupRecord {
  groupGuid: string;
  name: string;
  source: string | null;
  isEnabled: boolean;
  isDefault: boolean;
  managedByUserGuid: string | null;
  /** Member userGUIDs, insertion-ordered. */
  members: Set<string>;
}

/** The live HelloID directory. Writes through the API and out-of-band changes both land here. */
export class HelloIdState {
  /** Every user, deleted ones included (GET /users filters them out). */
  readonly users: HelloIdUserRecord[] = [];
  readonly groups: HelloIdGroupRecord[] = [];
  readonly apiKeys: { key: string; secret: string; enabled: boolean }[] = [];
  private readonly userByGuid = new Map<string, HelloIdUserRecord>();
  /** userNames as written: two users may differ only in case. */
  private readonly userByExactName = new Map<string, HelloIdUserRecord>();
  private readonly userByName = new Map<string, HelloIdUserRecord>();
  private readonly groupByGuid = new Map<string, HelloIdGroupRecord>();
  private readonly groupsByName = new Map<string, HelloIdGroupRecord[]>();

  addUser(u: HelloIdUserRecord): void {
    this.users.push(u);
    this.userByGuid.set(u.userGUID.toLowerCase(), u);
    this.userByExactName.set(u.userName, u);
    if (!this.userByName.has(u.userName.toLowerCase())) this.userByName.set(u.userName.toLowerCase(), u);
  }

  /** Delete a group out of band (as an administrator might); true when it existed. */
  deleteGroup(ref: string): boolean {
    const g = this.findGroup(ref);
    if (!g) return false;
    this.groups.splice(this.groups.indexOf(g), 1);
    this.groupByGuid.delete(g.groupGuid.toLowerCase());
    const list = this.groupsByName.get(g.name.toLowerCase()) ?? [];
    list.splice(list.indexOf(g), 1);
    if (list.length === 0) this.groupsByName.delete(g.name.toLowerCase());
    return true;
  }

  addGroup(g: HelloIdGroupRecord): void {
    this.groups.push(g);
    this.groupByGuid.set(g.groupGuid.toLowerCase(), g);
    const k = g.name.toLowerCase();
    const list = this.groupsByName.get(k);
    if (list) list.push(g);
    else this.groupsByName.set(k, [g]);
  }

  /**
   * By userGUID (case-insensitive) or userName: the exact spelling first, else the
   * first user (fixture order) whose name matches case-insensitively. Deleted users too.
   */
  findUser(ref: string): HelloIdUserRecord | undefined {
    const t = ref.trim();
    return this.userByGuid.get(t.toLowerCase()) ?? this.userByExactName.get(t) ?? this.userByName.get(t.toLowerCase());
  }

  /** Users GET /api/v1/users lists: the live ones, or with ?isDeleted=true the deleted ones. */
  listedUsers(deleted = false): HelloIdUserRecord[] {
    return this.users.filter((u) => u.isDeleted === deleted);
  }

  /** Mark a user deleted (out-of-band, or the paging fault); its group memberships stay. */
  deleteUser(ref: string): HelloIdUserRecord {
    const u = this.findUser(ref);
    if (!u) throw new Error(`HelloID user '${ref}' not found`);
    u.isDeleted = true;
    return u;
  }

  userByGuidOnly(guid: string): HelloIdUserRecord | undefined {
    return this.userByGuid.get(guid.trim().toLowerCase());
  }

  groupByGuidOnly(guid: string): HelloIdGroupRecord | undefined {
    return this.groupByGuid.get(guid.trim().toLowerCase());
  }

  /** By groupGuid, else by name (the first group of that name, fixture order). */
  findGroup(ref: string): HelloIdGroupRecord | undefined {
    const k = ref.trim().toLowerCase();
    return this.groupByGuid.get(k) ?? this.groupsByName.get(k)?.[0];
  }

  private resolve(groupRef: string, userRef: string): { g: HelloIdGroupRecord; u: HelloIdUserRecord } {
    const g = this.findGroup(groupRef);
    if (!g) throw new Error(`HelloID group '${groupRef}' not found`);
    const u = this.findUser(userRef);
    if (!u) throw new Error(`HelloID user '${userRef}' not found`);
    return { g, u };
  }

  addMember(groupRef: string, userRef: string): 'added' | 'already-member' {
    const { g, u } = this.resolve(groupRef, userRef);
    if (g.members.has(u.userGUID)) return 'already-member';
    g.members.add(u.userGUID);
    return 'added';
  }

  removeMember(groupRef: string, userRef: string): 'removed' | 'not-a-member' {
    const { g, u } = this.resolve(groupRef, userRef);
    return g.members.delete(u.userGUID) ? 'removed' : 'not-a-member';
  }

  /** Member userGUIDs of a group. */
  members(groupRef: string): string[] {
    const g = this.findGroup(groupRef);
    if (!g) throw new Error(`HelloID group '${groupRef}' not found`);
    return [...g.members];
  }

  /** Member userNames of a group (convenient in tests). */
  memberNames(groupRef: string): string[] {
    return this.members(groupRef).map((id) => this.userByGuid.get(id.toLowerCase())?.userName ?? id);
  }
}

// ---------------------------------------------------------------- tenant

export interface TenantModel {
  tenantId: string;
  organization: string;
  displayName: string;
  apps: Map<string, AppRecord>;
  exchange: ExchangeModel;
  helloid: HelloIdState;
}

const b64url = (b: Buffer): string => b.toString('base64url');

function parseCert(pem: string): AppCertificate {
  const x = new X509Certificate(pem);
  return {
    pem,
    publicKey: x.publicKey,
    x5t: b64url(createHash('sha1').update(x.raw).digest()),
    x5tS256: b64url(createHash('sha256').update(x.raw).digest()),
  };
}

function localPart(addr: string): string {
  return addr.split('@')[0] ?? addr;
}

function titleCase(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

const RTD_MAILBOX: Record<string, string> = {
  shared: 'SharedMailbox',
  user: 'UserMailbox',
  room: 'RoomMailbox',
  equipment: 'EquipmentMailbox',
};

/** Build the model; every referential problem is collected and thrown at once. */
export function buildModel(fx: TenantFixture, source: string): TenantModel {
  const problems: string[] = [];
  const problem = (path: string, msg: string): void => {
    problems.push(`${source}: ${path}: ${msg}`);
  };

  // Apps
  const apps = new Map<string, AppRecord>();
  fx.apps.forEach((a, i) => {
    if (apps.has(a.clientId.toLowerCase())) problem(`/apps/${i}/clientId`, `duplicate clientId '${a.clientId}'`);
    const certs: AppCertificate[] = [];
    const pems = [...(a.certificate ? [a.certificate] : []), ...(a.certificates ?? [])];
    pems.forEach((pem, j) => {
      try {
        certs.push(parseCert(pem));
      } catch (e) {
        problem(`/apps/${i}/certificate${a.certificates ? `s/${j}` : ''}`, `not a readable PEM certificate (${(e as Error).message})`);
      }
    });
    const secrets = [...(a.secret ? [a.secret] : []), ...(a.secrets ?? [])];
    if (secrets.length === 0 && pems.length === 0) problem(`/apps/${i}`, 'needs a secret or a certificate');
    apps.set(a.clientId.toLowerCase(), {
      clientId: a.clientId,
      displayName: a.displayName ?? 'ownersync',
      secrets,
      certificates: certs,
      roles: a.roles ?? ['Exchange.ManageAsApp'],
      directoryRoles: a.directoryRoles ?? ['Global Reader'],
    });
  });

  // Exchange recipients
  const ex = new ExchangeModel();
  const seenAddr = new Map<string, string>();
  const claimAddr = (addr: string | undefined, path: string): void => {
    if (!addr) return;
    const k = addr.toLowerCase();
    const prev = seenAddr.get(k);
    if (prev !== undefined) problem(path, `address '${addr}' is already used at ${prev}`);
    else seenAddr.set(k, path);
  };
  const xu = fx.exchange?.users ?? [];
  xu.forEach((u, i) => {
    const smtp = u.primarySmtpAddress ?? u.upn;
    claimAddr(u.upn, `/exchange/users/${i}/upn`);
    if (smtp.toLowerCase() !== u.upn.toLowerCase()) claimAddr(smtp, `/exchange/users/${i}/primarySmtpAddress`);
    const rtd = u.recipientTypeDetails ?? 'UserMailbox';
    const displayName = u.displayName ?? localPart(u.upn);
    const [guid, objectId] = u.guid && u.objectId ? [u.guid, u.objectId] : deterministicGuidPair('exchange-user', u.upn);
    ex.recipients.push({
      kind: 'user',
      name: u.name ?? displayName,
      alias: u.alias ?? localPart(smtp),
      displayName,
      primarySmtpAddress: rtd === 'User' || rtd === 'DisabledUser' ? '' : smtp,
      userPrincipalName: u.upn,
      guid: u.guid ?? guid,
      externalDirectoryObjectId: u.objectId ?? objectId,
      recipientType: rtd === 'UserMailbox' ? 'UserMailbox' : rtd === 'MailUser' ? 'MailUser' : 'User',
      recipientTypeDetails: rtd,
      hasMailbox: rtd === 'UserMailbox',
      mailEnabled: true,
      permissions: [],
      members: [],
    });
  });
  const selfRows = fx.exchange?.selfPermissionRows ?? true;
  (fx.exchange?.mailboxes ?? []).forEach((m, i) => {
    const upn = m.userPrincipalName ?? m.primarySmtpAddress;
    claimAddr(m.primarySmtpAddress, `/exchange/mailboxes/${i}/primarySmtpAddress`);
    if (upn.toLowerCase() !== m.primarySmtpAddress.toLowerCase()) claimAddr(upn, `/exchange/mailboxes/${i}/userPrincipalName`);
    const rows: PermissionRow[] = (m.permissions ?? []).map((p) => ({
      user: p.user,
      accessRights: Array.isArray(p.accessRights)
        ? [...p.accessRights]
        : p.accessRights.split(',').map((s) => s.trim()).filter(Boolean),
      isInherited: p.isInherited ?? false,
      deny: p.deny ?? false,
      inheritanceType: p.inheritanceType ?? 'All',
    }));
    if (selfRows && !rows.some((r) => r.user.toUpperCase() === 'NT AUTHORITY\\SELF')) {
      rows.unshift({ user: 'NT AUTHORITY\\SELF', accessRights: ['FullAccess', 'ReadPermission'], isInherited: false, deny: false, inheritanceType: 'All' });
    }
    const rtd = RTD_MAILBOX[m.type ?? 'shared']!;
    const [guid, objectId] = m.guid && m.objectId ? [m.guid, m.objectId] : deterministicGuidPair('exchange-mailbox', m.primarySmtpAddress);
    ex.recipients.push({
      kind: 'mailbox',
      name: m.name ?? m.displayName,
      alias: m.alias ?? localPart(m.primarySmtpAddress),
      displayName: m.displayName,
      primarySmtpAddress: m.primarySmtpAddress,
      userPrincipalName: upn,
      guid: m.guid ?? guid,
      externalDirectoryObjectId: m.objectId ?? objectId,
      recipientType: 'UserMailbox',
      recipientTypeDetails: rtd,
      hasMailbox: true,
      mailEnabled: true,
      permissions: rows,
      members: [],
    });
  });
  const fxGroups = fx.exchange?.groups ?? [];
  const groupRecs: Recipient[] = [];
  const groupNames = new Map<string, number>();
  fxGroups.forEach((g, i) => {
    const k = g.name.toLowerCase();
    if (groupNames.has(k)) problem(`/exchange/groups/${i}/name`, `duplicate group name '${g.name}'`);
    groupNames.set(k, i);
    const smtp = g.primarySmtpAddress ?? '';
    if (smtp) claimAddr(smtp, `/exchange/groups/${i}/primarySmtpAddress`);
    const mailEnabled = g.mailEnabled ?? true;
    if (!mailEnabled && g.type !== 'security') problem(`/exchange/groups/${i}/mailEnabled`, 'only a security group can be without mail (a distribution group is always mail-enabled)');
    if (!mailEnabled && smtp) problem(`/exchange/groups/${i}/primarySmtpAddress`, 'a group that is not mail-enabled has no address');
    const rtd = !mailEnabled ? 'UniversalSecurityGroup' : g.type === 'security' ? 'MailUniversalSecurityGroup' : 'MailUniversalDistributionGroup';
    const [groupGuid, groupObjectId] = deterministicGuidPair('exchange-group', g.name);
    const rec: Recipient = {
      kind: 'group',
      name: g.name,
      alias: g.alias ?? (smtp ? localPart(smtp) : g.name.replace(/[^A-Za-z0-9._-]/g, '')),
      displayName: g.displayName ?? g.name,
      primarySmtpAddress: smtp,
      guid: g.guid ?? groupGuid,
      externalDirectoryObjectId: g.objectId ?? groupObjectId,
      recipientType: mailEnabled ? rtd : 'Group',
      recipientTypeDetails: rtd,
      hasMailbox: false,
      mailEnabled,
      permissions: [],
      members: [],
    };
    groupRecs.push(rec);
    ex.recipients.push(rec);
  });
  ex.reindex();
  // Group members resolve after every recipient exists (groups may nest, even cyclically).
  fxGroups.forEach((g, i) => {
    const rec = groupRecs[i]!;
    (g.members ?? []).forEach((ref, j) => {
      const m = ex.groupIndex.get(ref) ?? ex.userIndex.get(ref);
      if (!m) problem(`/exchange/groups/${i}/members/${j}`, `no user, mailbox or group '${ref}'`);
      else if (m === rec) problem(`/exchange/groups/${i}/members/${j}`, `group '${g.name}' cannot contain itself`);
      // A distribution group holds mail-enabled recipients only. A mail-enabled security group
      // synced from Active Directory may hold a security group that is not (Get-Group lists it,
      // Get-DistributionGroupMember cannot: it is no recipient).
      else if (rec.mailEnabled && !m.mailEnabled && rec.recipientTypeDetails !== 'MailUniversalSecurityGroup') {
        problem(`/exchange/groups/${i}/members/${j}`, `distribution group '${g.name}' cannot contain '${ref}', which is not mail-enabled (only a mail-enabled security group can)`);
      }
      else rec.members.push(m);
    });
  });

  // HelloID
  const hid = new HelloIdState();
  for (const k of fx.helloid?.apiKeys ?? []) hid.apiKeys.push({ key: k.key, secret: k.secret, enabled: k.enabled ?? true });
  (fx.helloid?.users ?? []).forEach((u: FixtureHelloIdUser, i) => {
    const userGUID = u.userGUID ?? deterministicGuid('helloid-user', u.userName);
    // Names differing only in case are allowed (two such users need explicit userGUIDs,
    // as derived GUIDs ignore case); an exact repeat is a fixture mistake.
    if (hid.findUser(u.userName)?.userName === u.userName) problem(`/helloid/users/${i}/userName`, `duplicate userName '${u.userName}'`);
    else if (hid.userByGuidOnly(userGUID)) {
      problem(`/helloid/users/${i}/userGUID`, `duplicate userGUID '${userGUID}'${u.userGUID ? '' : ' (users whose userNames differ only in case need explicit userGUIDs)'}`);
    }
    const parts = localPart(u.userName).split(/[._]/);
    hid.addUser({
      userGUID,
      userName: u.userName,
      firstName: u.firstName ?? titleCase(parts[0] ?? ''),
      lastName: u.lastName ?? titleCase(parts.slice(1).join(' ')),
      contactEmail: u.contactEmail ?? (u.userName.includes('@') ? u.userName : ''),
      isEnabled: u.isEnabled ?? true,
      source: u.source ?? 'Local',
      isDeleted: u.isDeleted ?? false,
    });
  });
  (fx.helloid?.groups ?? []).forEach((g: FixtureHelloIdGroup, i) => {
    const source = g.source === undefined ? 'Local' : g.source;
    const groupGuid = g.groupGuid ?? deterministicGuid('helloid-group', `${source ?? ''}|${g.name}`);
    if (hid.groupByGuidOnly(groupGuid)) {
      problem(`/helloid/groups/${i}`, `groupGuid '${groupGuid}' is already used (two groups with one name and source need explicit groupGuids)`);
      return;
    }
    let managedBy: string | null = null;
    if (g.managedByUserGuid) {
      const u = hid.findUser(g.managedByUserGuid);
      if (!u) problem(`/helloid/groups/${i}/managedByUserGuid`, `no HelloID user '${g.managedByUserGuid}'`);
      else managedBy = u.userGUID;
    }
    const members = new Set<string>();
    (g.members ?? []).forEach((ref, j) => {
      const u = hid.findUser(ref);
      if (!u) problem(`/helloid/groups/${i}/members/${j}`, `no HelloID user '${ref}'`);
      else members.add(u.userGUID);
    });
    hid.addGroup({
      groupGuid,
      name: g.name,
      source,
      isEnabled: g.isEnabled ?? true,
      isDefault: g.isDefault ?? false,
      managedByUserGuid: managedBy,
      members,
    });
  });

  if (problems.length > 0) throw new FixtureError(problems);
  return {
    tenantId: fx.tenant.id,
    organization: fx.tenant.organization,
    displayName: fx.tenant.displayName ?? fx.tenant.organization,
    apps,
    exchange: ex,
    helloid: hid,
  };
}
