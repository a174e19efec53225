/**
 * Who may associate with our SCP (issue 10 §3): calling AE titles bound to the hosts they call from
 * (DFA_SCP_ALLOWED_PEERS=PACS@10.0.0.5,MODALITY@ct1.example.org). An AE title alone proves nothing
 * (PS3.8 7.1.1.4: any peer may claim any calling AE title); the source address is what the network
 * vouches for. Host names are resolved when the SCP starts.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Config } from '../../core/config.ts';
import { DfaError } from '../../core/errors.ts';

export interface AllowedPeer {
  readonly aet: string;
  /** IP address or host name; '*' for any host (only sensible on a trusted network segment). */
  readonly host: string;
}

/** Parse `AET@host,AET2@host2` (the form of DFA_SCP_ALLOWED_PEERS). */
export function parseAllowedPeers(entries: readonly string[]): AllowedPeer[] {
  return entries.map((e) => {
    const at = e.lastIndexOf('@');
    const aet = at > 0 ? e.slice(0, at).trim() : '';
    const host = at > 0 ? e.slice(at + 1).trim().replace(/^\[(.*)\]$/, '$1') : '';
    if (!aet || !host || aet.length > 16) {
      throw new DfaError('CONFIG_INVALID', `bad configuration: DFA_SCP_ALLOWED_PEERS entry '${e}' is not AET@host (AE title of at most 16 characters, then an address or host name)`);
    }
    return { aet, host };
  });
}

/** Our SCP's allow-list from DFA_SCP_ALLOWED_PEERS, if set. */
export function allowedPeers(config: Pick<Config, 'DFA_SCP_ALLOWED_PEERS'>): AllowedPeer[] | undefined {
  return config.DFA_SCP_ALLOWED_PEERS ? parseAllowedPeers(config.DFA_SCP_ALLOWED_PEERS) : undefined;
}

/** 127.0.0.0/8, ::1, localhost: an SCP bound there is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.5) is the IPv4 address it maps. */
const normalize = (ip: string): string => ip.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

export class PeerAllowList {
  private readonly byAet: Map<string, Set<string>>;
  private readonly entries: readonly AllowedPeer[];

  private constructor(entries: readonly AllowedPeer[], byAet: Map<string, Set<string>>) {
    this.entries = entries;
    this.byAet = byAet;
  }

  /** Resolve host names to addresses once; a name that does not resolve is a configuration error. */
  static async resolve(entries: readonly AllowedPeer[]): Promise<PeerAllowList> {
    const byAet = new Map<string, Set<string>>();
    for (const e of entries) {
      let addrs: string[];
      if (e.host === '*' || isIP(e.host)) addrs = [e.host];
      else {
        try {
          addrs = (await lookup(e.host, { all: true })).map((a) => a.address);
        } catch (err) {
          throw new DfaError('CONFIG_INVALID', `DFA_SCP_ALLOWED_PEERS: host '${e.host}' of AE '${e.aet}' does not resolve: ${(err as Error).message}`, { cause: err });
        }
      }
      const set = byAet.get(e.aet) ?? new Set<string>();
      for (const a of addrs) set.add(normalize(a));
      byAet.set(e.aet, set);
    }
    return new PeerAllowList(entries, byAet);
  }

  allows(callingAet: string, remoteAddress: string): boolean {
    const hosts = this.byAet.get(callingAet);
    return hosts !== undefined && (hosts.has('*') || hosts.has(normalize(remoteAddress)));
  }

  describe(): string {
    return this.entries.map((e) => `${e.aet}@${e.host}`).join(',');
  }
}
