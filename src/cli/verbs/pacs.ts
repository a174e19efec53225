import { join } from 'node:path';
import { DfaError } from '../../core/errors.ts';
import { EmbeddedPacs, type KnownAe } from '../../dicom/embedded-pacs/embedded-pacs.ts';
import { EMBEDDED_PACS_AET, dimseTimeouts } from '../../dicom/pacs-from-config.ts';
import type { TlsSettings } from '../../dicom/dimse/tls.ts';
import { tlsFromConfig } from '../../dicom/tls-from-config.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';
import { stopSignal } from '../stop-signal.ts';

/** 'AET@host:port' → [aet, {host, port}]; a '+tls' suffix: C-MOVE to it over TLS (DFA_TLS_*). */
function knownAe(spec: string, tls: () => TlsSettings): [string, KnownAe] {
  const m = /^([^@]{1,16})@([^:]+):(\d+)(\+tls)?$/.exec(spec);
  if (!m) throw new DfaError('CONFIG_INVALID', `--known '${spec}': expected AET@host:port or AET@host:port+tls`);
  return [m[1], { host: m[2], port: Number(m[3]), ...(m[4] ? { tls: tls() } : {}) }];
}

const FLAGS = defineFlags({
  port: { type: 'string', value: 'n', default: '4242', help: 'DIMSE port (default 4242)' },
  host: { type: 'string', value: 'addr', default: '127.0.0.1', help: 'interface (default 127.0.0.1)' },
  aet: { type: 'string', value: 'ae', default: EMBEDDED_PACS_AET, help: 'our AE title' },
  dir: { type: 'string', value: 'dir', help: 'where instances are kept' },
  known: { type: 'string', value: 'AE@host:port[+tls]', multiple: true, default: [], help: 'a move destination (repeatable; +tls: C-MOVE to it over DICOM TLS)' },
  allow: { type: 'string', value: 'AE,...', help: 'calling AEs accepted' },
  tls: { type: 'boolean', help: 'listen with DICOM TLS (DFA_TLS_CERT / DFA_TLS_KEY / DFA_TLS_CA)' },
});

export const verb: Verb = {
  summary: 'run the embedded dev PACS standalone (C-ECHO/FIND/MOVE/GET/STORE, data under DFA_DATA_DIR/pacs) until Ctrl-C',
  usage: [
    'npx dfa pacs --port 4242',
    'npx dfa pacs --port 4242 --aet DEVPACS --known DFA@127.0.0.1:11112 --known STORESCP@127.0.0.1:11113',
    'npx dfa pacs --host 0.0.0.0 --port 4242 --allow DFA,WORKSTATION   # reachable from the network, AE allow-list',
    'DFA_TLS_CERT=pacs.pem DFA_TLS_KEY=pacs.key DFA_TLS_CA=ca.pem npx dfa pacs --port 2762 --tls --known STORESCP@127.0.0.1:11113+tls   # DICOM over TLS',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values: v } = parseVerbArgs(FLAGS, args);
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DfaError('CONFIG_INVALID', `--port: not a port number: ${v.port}`);
    const c = ctx.config;
    // Our own SCP is always a known C-MOVE destination, as `dfa serve` runs it.
    let settings: TlsSettings | undefined;
    const tls = () => {
      if (!c.DFA_TLS_CERT) throw new DfaError('CONFIG_INVALID', 'DICOM over TLS (--tls, +tls) needs DFA_TLS_CERT and DFA_TLS_KEY');
      return (settings ??= tlsFromConfig(c));
    };
    const ourScp: KnownAe = { host: c.DFA_SCP_HOST, port: c.DFA_SCP_PORT, ...(c.DFA_SCP_TLS ? { tls: tls() } : {}) };
    const known = Object.fromEntries([[c.DFA_AET, ourScp], ...v.known.map((k) => knownAe(k, tls))]);
    const pacs = await EmbeddedPacs.start({
      dir: v.dir ?? join(c.DFA_DATA_DIR, 'pacs'), aet: v.aet, host: v.host, port, knownAes: known, log: ctx.log, timeouts: dimseTimeouts(c),
      ...(v.tls ? { tls: tls() } : {}),
      ...(v.allow ? { allowedAets: v.allow.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    });
    const stopped = stopSignal(); // listening before the lines below: a caller may signal as soon as it reads them
    ctx.out(`embedded PACS ${pacs.aet} listening on ${pacs.host}:${pacs.port}${v.tls ? ' (DICOM over TLS)' : ''}, ${pacs.store.size} instance(s) in ${pacs.store.root}`);
    ctx.out(`C-MOVE destinations: ${Object.entries(known).map(([a, k]) => `${a}@${k.host}:${k.port}${k.tls ? '+tls' : ''}`).join(', ')}  (Ctrl-C to stop)`);
    await stopped;
    await pacs.close();
    return 0;
  },
};
