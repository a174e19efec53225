import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.ts';
import { parseStorageUrl } from './storage-url.ts';
import { isDfaError } from './errors.ts';

test('defaults give the embedded setup', () => {
  const c = loadConfig({});
  assert.equal(c.DFA_AET, 'DFA');
  assert.equal(c.DFA_SCP_PORT, 11112);
  assert.deepEqual(c.DFA_RETRIEVE, ['c-get', 'c-move', 'wado-rs']);
  assert.equal(c.DFA_STORE, 'c-store');
  assert.equal(c.DFA_FHIR_URL, undefined);
});

test('retrieve order is parsed and validated', () => {
  assert.deepEqual(loadConfig({ DFA_RETRIEVE: 'wado-rs, c-move' }).DFA_RETRIEVE, ['wado-rs', 'c-move']);
  assert.throws(() => loadConfig({ DFA_RETRIEVE: 'c-get,ftp' }), (e) => isDfaError(e, 'CONFIG_INVALID'));
});

test('PACS host without port/AET is a config error naming what is missing', () => {
  assert.throws(
    () => loadConfig({ DFA_PACS_HOST: 'pacs.local' }),
    (e) => isDfaError(e, 'CONFIG_INVALID') && /DFA_PACS_PORT/.test(e.message),
  );
});

test('AE titles longer than 16 characters are refused', () => {
  assert.throws(() => loadConfig({ DFA_AET: 'A'.repeat(17) }), (e) => isDfaError(e, 'CONFIG_INVALID'));
});

test('storage: DFA_STORAGE_URL picks local disk or s3://bucket/prefix; S3 keys go in pairs; retention is whole days', () => {
  assert.deepEqual(parseStorageUrl(undefined), { kind: 'local' });
  assert.deepEqual(parseStorageUrl('/srv/dfa-artifacts'), { kind: 'local', root: '/srv/dfa-artifacts' });
  assert.deepEqual(parseStorageUrl('file:///srv/a'), { kind: 'local', root: '/srv/a' });
  assert.deepEqual(parseStorageUrl('s3://dfa-results/site-a/'), { kind: 's3', bucket: 'dfa-results', prefix: 'site-a' });
  assert.deepEqual(parseStorageUrl('s3://dfa-results'), { kind: 's3', bucket: 'dfa-results', prefix: '' });
  const c = loadConfig({ DFA_STORAGE_URL: 's3://dfa/x', DFA_S3_ENDPOINT: 'http://127.0.0.1:9000', DFA_S3_FORCE_PATH_STYLE: 'true' });
  assert.equal(c.DFA_S3_FORCE_PATH_STYLE, true);
  assert.equal(c.DFA_S3_REGION, 'us-east-1');
  assert.equal(c.DFA_ARCHIVE_RETENTION_DAYS, undefined);
  assert.equal(loadConfig({ DFA_ARCHIVE_RETENTION_DAYS: '30' }).DFA_ARCHIVE_RETENTION_DAYS, 30);
  assert.throws(() => loadConfig({ DFA_ARCHIVE_RETENTION_DAYS: '0' }), (e) => isDfaError(e, 'CONFIG_INVALID'));
  assert.throws(() => loadConfig({ DFA_STORAGE_URL: 's3://Bad_Bucket/x' }), (e) => isDfaError(e, 'CONFIG_INVALID') && /bucket name/.test(e.message));
  assert.throws(() => loadConfig({ DFA_STORAGE_URL: 'gs://b/x' }), (e) => isDfaError(e, 'CONFIG_INVALID') && /s3:\/\//.test(e.message));
  assert.throws(
    () => loadConfig({ DFA_STORAGE_URL: 's3://dfa', DFA_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' }),
    (e) => isDfaError(e, 'CONFIG_INVALID') && /go together/.test(e.message) && !e.message.includes('AKIAEXAMPLE'),
  );
});
