/**
 * A test PKI made with the Debian `openssl` CLI in a temp dir: a CA, a second CA nobody trusts,
 * and leaf certificates for 127.0.0.1 / localhost (serverAuth + clientAuth, so each serves as SCP
 * and SCU): a good one, one valid only in 2020 (expired; `openssl ca -startdate/-enddate`, as
 * openssl 3.0 has no `x509 -not_before`), and one signed by the untrusted CA.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TlsSettings } from '../../src/dicom/dimse/tls.ts';

const run = promisify(execFile);

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  /** PEM file of the trusted CA. */
  readonly ca: string;
  /** PEM file of a CA nobody trusts. */
  readonly otherCa: string;
  readonly server: CertFiles;
  readonly client: CertFiles;
  readonly expired: CertFiles;
  readonly rogue: CertFiles;
  /** TlsSettings from files: `leaf` presented, `ca` trusted. */
  settings(leaf: CertFiles | undefined, ca?: string, extra?: Partial<TlsSettings>): Promise<TlsSettings>;
  remove(): Promise<void>;
}

const openssl = (dir: string, args: string[]) => run('openssl', args, { cwd: dir });

const LEAF_EXT = ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'basicConstraints=CA:FALSE',
  'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'];

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3650', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

async function makeLeaf(dir: string, name: string, cn: string, ca: string, validity: { days: number } | { start: string; end: string }): Promise<CertFiles> {
  await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  if ('days' in validity) {
    await writeFile(join(dir, 'leaf.ext'), LEAF_EXT.join('\n') + '\n');
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', String(Date.now() % 1e9 + Math.floor(Math.random() * 1000)),
      '-out', `${name}.pem`, '-days', String(validity.days), '-sha256', '-extfile', 'leaf.ext']);
  } else {
    // openssl ca is the openssl 3.0 way to a certificate with dates in the past.
    const db = join(dir, `${name}-db`);
    await mkdir(db);
    await writeFile(join(db, 'index.txt'), '');
    await writeFile(join(db, 'serial'), '1000\n');
    await writeFile(join(dir, `${name}-ca.cnf`), [
      '[ca]', 'default_ca = test', '[test]', `database = ${db}/index.txt`, `new_certs_dir = ${db}`, `serial = ${db}/serial`,
      'default_md = sha256', 'policy = any', 'unique_subject = no', 'x509_extensions = leaf', '[any]', 'commonName = supplied', '[leaf]', ...LEAF_EXT, '',
    ].join('\n'));
    await openssl(dir, ['ca', '-batch', '-config', `${name}-ca.cnf`, '-cert', `${ca}.pem`, '-keyfile', `${ca}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`,
      '-startdate', validity.start, '-enddate', validity.end, '-notext']);
  }
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-pki-'));
  await makeCa(dir, 'ca', 'DFA Test CA');
  await makeCa(dir, 'other-ca', 'Untrusted CA');
  const server = await makeLeaf(dir, 'server', 'localhost', 'ca', { days: 30 });
  const client = await makeLeaf(dir, 'client', 'DFA test client', 'ca', { days: 30 });
  const expired = await makeLeaf(dir, 'expired', 'localhost', 'ca', { start: '20200101000000Z', end: '20210101000000Z' });
  const rogue = await makeLeaf(dir, 'rogue', 'localhost', 'other-ca', { days: 30 });
  const ca = join(dir, 'ca.pem');
  return {
    dir, ca, otherCa: join(dir, 'other-ca.pem'), server, client, expired, rogue,
    async settings(leaf, trusted = ca, extra = {}) {
      return {
        ...(leaf ? { cert: await readFile(leaf.cert), key: await readFile(leaf.key) } : {}),
        ca: [await readFile(trusted)],
        ...extra,
      };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
