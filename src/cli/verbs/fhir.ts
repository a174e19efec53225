import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { join } from 'node:path';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { DfaError } from '../../core/errors.ts';
import { startFhirServer } from '../../fhir/dev-server/server.ts';
import type { DevServerAuth } from '../../fhir/dev-server/token-service.ts';
import { FhirClient } from '../../fhir/client.ts';
import { runFhirContract } from '../../fhir/fhir-contract.ts';
import { authFromConfig } from '../../fhir/auth.ts';
import { fhirFromConfig } from '../../fhir/fhir-from-config.ts';
import { defineFlags, parseVerbArgs, type FlagValues } from '../flags.ts';
import type { Verb, VerbContext } from '../verb.ts';

const FLAGS = defineFlags({
  port: { type: 'string', value: 'n', help: 'serve: port (default 8081)' },
  host: { type: 'string', value: 'addr', help: 'serve: interface (default 127.0.0.1)' },
  auth: { type: 'string', value: 'file', help: 'serve: enforce auth (auth.json)' },
  'data-dir': { type: 'string', value: 'dir', help: 'serve: where data lives' },
  out: { type: 'string', value: 'dir', help: 'keygen: where to write the keys' },
  'client-id': { type: 'string', value: 'id', help: 'keygen: the client id' },
  alg: { type: 'string', value: 'alg', help: 'keygen: RS384 (default) or ES384' },
});

/** `dfa fhir serve` runs the embedded dev FHIR server standalone; `check` and `search` talk to the configured one. */
export const verb: Verb = {
  summary: 'FHIR: run the embedded dev server (serve); check, search or contract-test the configured server',
  usage: [
    'npx dfa fhir serve --port 8081                       # http://127.0.0.1:8081/fhir, data under $DFA_DATA_DIR/fhir',
    'npx dfa fhir serve --port 8081 --auth auth.json       # enforce auth: {"clients":[{"clientId":"dfa","jwks":{"keys":[...]}}]}',
    'DFA_FHIR_URL=http://127.0.0.1:8081/fhir npx dfa fhir check',
    'DFA_FHIR_URL=http://127.0.0.1:8081/fhir npx dfa fhir search ImagingStudy status=registered modality=CT',
    'DFA_FHIR_URL=https://hapi.example/fhir npx dfa fhir contract   # checks the server does what we rely on; WRITES test Patients',
    'npx dfa fhir keygen --out keys --client-id dfa [--alg ES384]   # SMART backend key pair: private-key.pem, jwks.json, auth.json',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const [sub, ...rest] = positionals;
    switch (sub) {
      case 'serve':
        return serve(values, ctx);
      case 'check':
        return check(ctx);
      case 'search':
        return search(rest, ctx);
      case 'contract':
        return contract(ctx);
      case 'keygen':
        return keygen(values, ctx);
      default:
        throw new DfaError('CONFIG_INVALID', `usage: dfa fhir serve|check|search|contract|keygen (got '${sub ?? ''}')`);
    }
  },
};

type Values = FlagValues<typeof FLAGS>;

async function serve(v: Values, ctx: VerbContext): Promise<number> {
  const port = Number(v.port ?? 8081);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DfaError('CONFIG_INVALID', `bad --port ${v.port}`);
  const auth = v.auth ? (JSON.parse(await readFile(v.auth, 'utf8')) as DevServerAuth) : undefined;
  const dataDir = v['data-dir'] ?? join(ctx.config.DFA_DATA_DIR, 'fhir');
  const server = await startFhirServer({ port, host: v.host ?? '127.0.0.1', dataDir, auth });
  ctx.out(`FHIR R4 dev server: ${server.url}${auth ? ` (auth enforced; token endpoint ${server.tokenUrl})` : ''}; data in ${dataDir}. Ctrl-C stops.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}

async function check(ctx: VerbContext): Promise<number> {
  const fhir = await fhirFromConfig(ctx.config, ctx.log);
  try {
    const t0 = performance.now();
    const cs = (await fhir.client.request<CapabilityStatement>('GET', 'metadata')).body;
    // /metadata is often public: also make one authenticated search.
    await fhir.client.searchPage('ImagingStudy', { _count: 1 });
    const ms = Math.round(performance.now() - t0);
    ctx.out(`FHIR ${fhir.client.baseUrl}: ${cs.software?.name ?? 'server'} FHIR ${cs.fhirVersion}, auth ${ctx.config.DFA_FHIR_AUTH} ok (${ms} ms)${fhir.embedded ? ' [embedded dev FHIR]' : ''}`);
    return 0;
  } finally {
    await fhir.close();
  }
}

async function search(args: readonly string[], ctx: VerbContext): Promise<number> {
  const [type, ...pairs] = args;
  if (!type || !/^[A-Z][A-Za-z]+$/.test(type)) throw new DfaError('CONFIG_INVALID', 'usage: dfa fhir search <ResourceType> [name=value ...]');
  const params: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i > 0) params[p.slice(0, i)] = p.slice(i + 1);
  }
  const fhir = await fhirFromConfig(ctx.config, ctx.log);
  try {
    const found = await fhir.client.search(type as 'Patient', params, { maxResults: 1000 });
    for (const r of found) ctx.out(JSON.stringify(r));
    ctx.log.info('fhir search', { type, matches: found.length });
    return 0;
  } finally {
    await fhir.close();
  }
}

/** Runs the FHIR contract (src/fhir/fhir-contract.ts) against the configured server; exit 1 on any failure. */
async function contract(ctx: VerbContext): Promise<number> {
  const fhir = await fhirFromConfig(ctx.config, ctx.log);
  try {
    const auth = fhir.embedded ? undefined : authFromConfig(ctx.config);
    const base = { baseUrl: fhir.client.baseUrl, auth, timeoutMs: ctx.config.DFA_FHIR_TIMEOUT_MS, log: ctx.log };
    const results = await runFhirContract((o) => new FhirClient({ ...base, ...o }));
    for (const r of results) ctx.out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.error ? ` — ${r.error}` : ''}`);
    const failed = results.filter((r) => !r.ok).length;
    ctx.out(`${fhir.client.baseUrl}: ${results.length - failed}/${results.length} contract checks passed${fhir.embedded ? ' [embedded dev FHIR]' : ''}`);
    return failed ? 1 : 0;
  } finally {
    await fhir.close();
  }
}

/**
 * A key pair for SMART Backend Services: the private key (PKCS#8 PEM, for DFA_FHIR_PRIVATE_KEY)
 * stays with the agent; jwks.json (public) is what the FHIR server's admin registers for the
 * client; auth.json is that registration in the dev server's `--auth` format.
 */
async function keygen(v: Values, ctx: VerbContext): Promise<number> {
  const out = v.out;
  if (!out) throw new DfaError('CONFIG_INVALID', 'usage: dfa fhir keygen --out <dir> [--client-id dfa] [--alg RS384|ES384]');
  const alg = v.alg ?? 'RS384';
  if (alg !== 'RS384' && alg !== 'ES384') throw new DfaError('CONFIG_INVALID', `--alg must be RS384 or ES384, not ${alg}`);
  const clientId = v['client-id'] ?? 'dfa';
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${clientId}-${new Date().toISOString().slice(0, 10)}`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }] };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'private-key.pem'), await exportPKCS8(privateKey), { mode: 0o600 });
  await writeFile(join(out, 'jwks.json'), JSON.stringify(jwks, null, 2) + '\n');
  await writeFile(join(out, 'auth.json'), JSON.stringify({ clients: [{ clientId, jwks }] }, null, 2) + '\n');
  ctx.out(`${alg} key pair for client '${clientId}' (kid ${kid}) in ${out}: private-key.pem (keep secret; DFA_FHIR_PRIVATE_KEY), jwks.json (register at the server), auth.json (dfa fhir serve --auth)`);
  return 0;
}
