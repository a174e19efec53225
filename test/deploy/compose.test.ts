import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/testdata.ts';

const run = promisify(execFile);

// No container engine here: Debian's docker-compose validates the file (schema, anchors, references).
test('docker-compose.yml is valid and wires the agent to PostgreSQL, the PACS and FHIR', async () => {
  // The API is published beyond loopback, so the file insists on a token (issue 10: no open API).
  await assert.rejects(run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: REPO_ROOT, env: { ...process.env, DFA_API_TOKEN: '' } }), /DFA_API_TOKEN/);
  const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: REPO_ROOT, env: { ...process.env, DFA_API_TOKEN: 'compose-test-token-0123' } });
  assert.match(stdout, /DFA_API_AUTH: token/);
  for (const s of ['postgres:', 'orthanc:', 'fhir:', 'dfa:', 'worker:']) assert.ok(stdout.includes(s), `service ${s}`);
  assert.match(stdout, /DFA_DATABASE_URL: postgres:\/\/dfa:dfa@postgres:5432\/dfa/);
  assert.match(stdout, /- worker/);
});
