/**
 * The keys API of the façade (SPEC §14): add, revoke and list keys. Changes go through the ledger's group
 * commit, decided by the pure rules of domain/keys against the authority as of their place in the group.
 */
import { decideKey, type Authority, type KeyStanding, type Role } from './domain/keys.js';
import type { AppendInput, AppendResult, LedgerPoint } from './ledger.js';
import type { DecideContext } from './records.js';

/** What Keys needs from the ledger. */
export interface KeysHost {
  submit(build: (context: DecideContext) => Promise<readonly AppendInput[]>): Promise<AppendResult[]>;
  authority(): Authority;
  readAuthority(point?: LedgerPoint): Promise<Authority>;
  assertReadable(): void;
}

/** The keys API of the façade (SPEC §14): changes go through the group commit, decided by domain/keys. */
export class Keys {
  readonly #host: KeysHost;

  constructor(host: KeysHost) {
    this.#host = host;
  }

  /**
   * Authorises `publicKeyHex` with a role (or changes an active key's role or name). Only admins may.
   * @throws LedgerError KEY_NOT_AUTHORIZED, KEY_WEAK, KEY_REVOKED, KEY_UNCHANGED, LAST_ADMIN, INVALID_ARGUMENT.
   * @example await ledger.keys.add(aliceHex, { role: 'writer', name: 'alice' });
   */
  async add(publicKeyHex: string, options: { role: Role; name?: string }): Promise<AppendResult> {
    const [result] = await this.#host.submit(async (context) => [decideKey({ op: 'add', key: publicKeyHex, role: options.role, name: options.name }, context.authority(), context.author)]);
    return result!;
  }

  /**
   * Revokes a key for good; events it signed before stay valid (SPEC §14.3). The last admin cannot be revoked.
   * @throws LedgerError KEY_NOT_AUTHORIZED, KEY_NOT_FOUND, KEY_REVOKED, LAST_ADMIN, INVALID_ARGUMENT.
   */
  async revoke(publicKeyHex: string, options: { reason?: string } = {}): Promise<AppendResult> {
    const [result] = await this.#host.submit(async (context) => [decideKey({ op: 'revoke', key: publicKeyHex, reason: options.reason }, context.authority(), context.author)]);
    return result!;
  }

  /** Every key known now, or just after a point, revoked ones included, in key order. */
  async list(options: { at?: LedgerPoint } = {}): Promise<KeyStanding[]> {
    this.#host.assertReadable();
    const authority = await this.#host.readAuthority(options.at);
    return [...authority.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}
