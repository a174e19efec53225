import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesIdentifier, matchesKey } from './matching.ts';

test('C-FIND matching rules of PS3.4 C.2.2.2', () => {
  assert.ok(matchesKey('20060101', '', false, true)); // universal
  assert.ok(matchesKey('20060101', '20060101', false, true)); // single value
  assert.ok(matchesKey('20060101', '20050101-20070101', false, true)); // range
  assert.ok(matchesKey('20060101', '-20060101', false, true));
  assert.ok(!matchesKey('20060101', '20070101-', false, true));
  assert.ok(matchesKey('DOE^JOHN', 'DOE*', false, false)); // wildcard
  assert.ok(matchesKey('DOE^JOHN', 'DO?^JOHN', false, false));
  assert.ok(!matchesKey('DOE^JOHN', 'SMITH*', false, false));
  assert.ok(matchesKey('1.2.3', '1.2.4\\1.2.3', true, false)); // list of UIDs
  assert.ok(!matchesKey('1.2.3', '1.2.30', true, false));
  assert.ok(matchesIdentifier({ ModalitiesInStudy: ['CT', 'RTSTRUCT'], PatientID: 'P1' }, { ModalitiesInStudy: 'CT', PatientID: 'P1' }));
  assert.ok(!matchesIdentifier({ ModalitiesInStudy: ['CT'], PatientID: 'P1' }, { ModalitiesInStudy: 'MR' }));
});
