import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/testdata.ts';

const run = promisify(execFile);

interface Healthcheck { test?: string[] | string; disable?: boolean }
interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | null>;
  ports?: { published: number; target: number }[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}
interface Compose { services: Record<string, ComposeService> }

/**
 * The compose project in a temp folder with deploy/*.env made from the shipped examples (what a
 * user does first), resolved by Debian's docker-compose (1.29: no container engine needed) and read
 * as JSON through python3-yaml (a docker-compose dependency).
 */
async function resolvedCompose(o: { withEnvFiles: boolean }): Promise<{ config: Compose; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-compose-'));
  await copyFile(join(REPO_ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  await mkdir(join(dir, 'deploy'));
  if (o.withEnvFiles) {
    for (const f of await readdir(join(REPO_ROOT, 'deploy'))) {
      if (f.endsWith('.env.example')) await copyFile(join(REPO_ROOT, 'deploy', f), join(dir, 'deploy', f.replace(/\.example$/, '')));
    }
  }
  try {
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    await writeFile(join(dir, 'resolved.yml'), stdout);
    const parsed = await run('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(dir, 'resolved.yml')]);
    return { config: JSON.parse(parsed.stdout) as Compose, dir };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

const SECRET_KEY = /(PASSWORD|TOKEN|SECRET|ACCESS_KEY|DATABASE_URL)/;

test('docker-compose.yml: one container per service, health-checked, started in order, secrets only from env files', async () => {
  const { config, dir } = await resolvedCompose({ withEnvFiles: true });
  try {
    const s = config.services;
    const names = Object.keys(s).sort();
    assert.deepEqual(names, ['api', 'dicom', 'fhir-handler', 'hapi-fhir', 'minio', 'minio-init', 'ml-1', 'ml-2', 'orthanc', 'postgres', 'storage', 'worker']);

    // Each dfa role runs the one image with its verb; each service on its own port.
    const roles: Record<string, { command: string[]; port?: number }> = {
      api: { command: ['serve'], port: 8080 },
      worker: { command: ['worker'] },
      'ml-1': { command: ['service', 'ml'], port: 8091 },
      'ml-2': { command: ['service', 'ml'], port: 8091 },
      storage: { command: ['service', 'storage'], port: 8092 },
      dicom: { command: ['service', 'dicom'], port: 8093 },
      'fhir-handler': { command: ['service', 'fhir'], port: 8094 },
    };
    for (const [name, role] of Object.entries(roles)) {
      const svc = s[name]!;
      assert.deepEqual(svc.command, role.command, name);
      assert.ok(svc.build, `${name} is built from this repository`);
      assert.equal(svc.environment?.DFA_API_AUTH, 'token', `${name}: bound beyond loopback, so callers authenticate`);
      assert.ok((svc.environment?.DFA_API_TOKEN ?? '').length >= 16, `${name}: DFA_API_TOKEN from deploy/dfa.env`);
      // node:24-slim has no curl: the check is Node's fetch of the service's own /health or /ready.
      const hc = JSON.stringify(svc.healthcheck?.test ?? []);
      if (role.port) assert.match(hc, new RegExp(`fetch\\('http://127\\.0\\.0\\.1:${role.port}/(health|ready)'\\)`), `${name} healthcheck: ${hc}`);
      else assert.match(hc, /node/, `${name} healthcheck: ${hc}`);
    }
    assert.equal(s.worker!.deploy?.replicas, 2, 'workers ×N by deploy.replicas');

    // The agent reaches every service remotely; ml_processor replicas are listed one by one (failover).
    for (const name of ['api', 'worker']) {
      const env = s[name]!.environment!;
      assert.equal(env.DFA_DICOM_URL, 'http://dicom:8093');
      assert.equal(env.DFA_FHIR_SERVICE_URL, 'http://fhir-handler:8094');
      assert.equal(env.DFA_STORAGE_SERVICE_URL, 'http://storage:8092');
      assert.deepEqual(env.DFA_ML_URL?.split(','), ['http://ml-1:8091', 'http://ml-2:8091']);
      assert.match(env.DFA_DATABASE_URL ?? '', /^postgres:\/\/dfa:[^@]+@postgres:5432\/dfa$/);
    }
    // The DICOM gateway owns the SCP, published so modalities can push; the PACS knows it as DFA@dicom.
    assert.deepEqual(s.dicom!.ports, [{ published: 11112, target: 11112 }]);
    assert.equal(s.dicom!.environment?.DFA_SCP_PORT, '11112');
    assert.equal(s.dicom!.environment?.DFA_SCP_HOST, '0.0.0.0', 'the SCP is reachable from the PACS container');
    assert.match(s.dicom!.environment?.DFA_SCP_ALLOWED_PEERS ?? '', /(^|,)ORTHANC@orthanc(,|$)/, 'off loopback the SCP names its callers');
    assert.match(s.orthanc!.environment?.ORTHANC__DICOM_MODALITIES ?? '', /\["DFA", "dicom", 11112\]/);
    assert.equal(s.orthanc!.environment?.ORTHANC__DICOM_WEB__ENABLE, 'true');
    assert.equal(s['fhir-handler']!.environment?.DFA_FHIR_URL, 'http://hapi-fhir:8080/fhir');
    // storage_service on MinIO (path-style); it alone holds object-store credentials.
    const st = s.storage!.environment!;
    assert.match(st.DFA_STORAGE_URL ?? '', /^s3:\/\/dfa\//);
    assert.equal(st.DFA_S3_ENDPOINT, 'http://minio:9000');
    assert.equal(st.DFA_S3_FORCE_PATH_STYLE, 'true');
    assert.ok(st.DFA_S3_ACCESS_KEY_ID && st.DFA_S3_SECRET_ACCESS_KEY);
    for (const [name, svc] of Object.entries(s)) {
      if (name !== 'storage' && name !== 'minio-init') assert.equal(svc.environment?.DFA_S3_SECRET_ACCESS_KEY, undefined, `${name} holds no S3 secret`);
      if (!['api', 'worker'].includes(name)) assert.equal(svc.environment?.DFA_DATABASE_URL, undefined, `${name} holds no database password`);
    }

    // Health checks on every long-running service; HAPI's distroless image has no shell, so
    // fhir-handler's /ready (which probes it) gates whatever needs FHIR.
    for (const [name, svc] of Object.entries(s)) {
      if (name === 'minio-init' || name === 'hapi-fhir') continue;
      assert.ok(svc.healthcheck?.test && !svc.healthcheck.disable, `${name} has a health check`);
    }
    assert.match(JSON.stringify(s['fhir-handler']!.healthcheck?.test), /\/ready/);
    // Start order: each dependency healthy (or the one-shot bucket setup finished).
    const allowed: Record<string, string> = { 'minio-init': 'service_completed_successfully', 'hapi-fhir': 'service_started' };
    let edges = 0;
    for (const [name, svc] of Object.entries(s)) {
      for (const [dep, c] of Object.entries(svc.depends_on ?? {})) {
        assert.ok(s[dep], `${name} depends on a defined service ${dep}`);
        assert.equal(c.condition, allowed[dep] ?? 'service_healthy', `${name} → ${dep}`);
        edges++;
      }
    }
    assert.ok(edges >= 15, `depends_on edges: ${edges}`);
    for (const name of ['api', 'worker']) {
      assert.deepEqual(Object.keys(s[name]!.depends_on ?? {}).sort(), ['dicom', 'fhir-handler', 'ml-1', 'ml-2', 'postgres', 'storage']);
    }
    assert.equal(s.storage!.depends_on?.['minio-init']?.condition, 'service_completed_successfully');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('docker-compose.yml holds no secret; the env files do, and a missing one stops docker-compose', async () => {
  const raw = await readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
  for (const [i, line] of raw.split('\n').entries()) {
    if (/^\s*#/.test(line)) continue;
    // A key: value (or KEY=value) whose key names a secret, with a literal value (not $$VAR from an env file).
    const m = /([A-Z_]*(PASSWORD|TOKEN|SECRET|ACCESS_KEY)[A-Z_]*)\s*[:=]\s*(\S+)/.exec(line);
    assert.ok(!m || m[3]!.startsWith('"$$') || m[3]!.startsWith('$$'), `line ${i + 1} sets a secret inline: ${line.trim()}`);
    assert.doesNotMatch(line, /postgres:\/\/[^:@\s]+:[^@\s]+@/, `line ${i + 1}: a password in a URL`);
  }
  assert.doesNotMatch(raw, /POSTGRES_PASSWORD:/);
  // The examples hold placeholders that fit together; real copies are never committed.
  const example = async (f: string) => Object.fromEntries((await readFile(join(REPO_ROOT, 'deploy', f), 'utf8')).split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const pg = await example('postgres.env.example');
  const agent = await example('agent.env.example');
  assert.equal(new URL(agent.DFA_DATABASE_URL!).password, pg.POSTGRES_PASSWORD, 'agent.env and postgres.env agree on the password');
  assert.equal(new URL(agent.DFA_DATABASE_URL!).username, pg.POSTGRES_USER);
  for (const f of ['dfa.env.example', 'agent.env.example', 'postgres.env.example', 'minio.env.example', 'storage.env.example']) {
    for (const [k, v] of Object.entries(await example(f))) if (SECRET_KEY.test(k)) assert.match(v, /change-me/, `${f}: ${k} is a placeholder`);
  }
  assert.match(await readFile(join(REPO_ROOT, '.gitignore'), 'utf8'), /^\/deploy\/\*\.env$/m);
  assert.match(await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8'), /^deploy$/m, 'the env files stay out of the image build context');
  await assert.rejects(resolvedCompose({ withEnvFiles: false }), /deploy\/[a-z]+\.env/);
});
