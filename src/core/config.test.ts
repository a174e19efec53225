import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.ts';
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
