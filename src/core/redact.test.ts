import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryLogger, createLogger } from './log.ts';
import { maskId, maskPatientText, neutralise, redact, stripUrlCredentials } from './redact.ts';

test('credentials: by key at any depth, in URL user-info and in secret query parameters', () => {
  const r = redact({ cfg: { fhir: { clientSecret: 's3', url: 'https://u:p4ss@fhir.example/r4?x=1&access_token=abc' } }, list: [{ password: 'x' }] });
  assert.deepEqual(r, { cfg: { fhir: { clientSecret: '***', url: 'https://fhir.example/r4?x=1&access_token=***' } }, list: [{ password: '***' }] });
  assert.equal(stripUrlCredentials('GET http://dfa:S3cret@127.0.0.1:8042/dicom-web/studies failed'), 'GET http://127.0.0.1:8042/dicom-web/studies failed');
  assert.equal(stripUrlCredentials('see https://h/x?token=t&y=2'), 'see https://h/x?token=***&y=2');
  // S3 credentials, as settings and as the AWS SDK names them.
  const s3 = redact({ DFA_S3_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', DFA_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI', credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'k', sessionToken: 't' } });
  assert.deepEqual(s3, { DFA_S3_ACCESS_KEY_ID: '***', DFA_S3_SECRET_ACCESS_KEY: '***', credentials: { accessKeyId: '***', secretAccessKey: '***', sessionToken: '***' } });
});

test('patient identity: names, IDs, birth dates by key (DICOM keywords too), person names and named patients in text', () => {
  const r = redact({ PatientName: 'Doe^Jane', patientId: 'MRN-7731905', PatientBirthDate: '19610203', study: { mrn: 12345678, uid: '1.2.3' } });
  assert.deepEqual(r, { PatientName: '***', patientId: '***05', PatientBirthDate: '***', study: { mrn: '***78', uid: '1.2.3' } });
  assert.equal(maskId('42'), '***');
  assert.equal(maskPatientText('study of Doe^Jane^M refused'), 'study of *** refused');
  assert.equal(maskPatientText('Analyze CT for patient MRN-7731905 and store RTSTRUCT'), 'Analyze CT for patient ***05 and store RTSTRUCT');
  assert.equal(maskPatientText('re-run mrn: AB123456'), 're-run mrn: ***56');
  assert.equal(maskPatientText('Analyze all pending CT scans for lung segmentation'), 'Analyze all pending CT scans for lung segmentation');
});

test('text logs: CR/LF and other controls from peers cannot forge lines; nested objects redacted; same at every level', () => {
  const log = memoryLogger('debug');
  log.info('association from AE "EVIL\r\nINFO  forged"', { aet: 'A\nB\u001b[31m', deep: { a: { b: { password: 'pw', PatientName: 'X^Y' } } } });
  log.debug('debug too', { patientName: 'Doe^John' });
  assert.equal(log.lines.length, 2);
  assert.ok(!log.lines[0].includes('\n') && !log.lines[0].includes('\r') && !log.lines[0].includes('\u001b'));
  assert.match(log.lines[0], /EVIL\\r\\nINFO {2}forged/);
  assert.match(log.lines[0], /aet=A\\nB\\u001b\[31m/);
  assert.match(log.lines[0], /"password":"\*\*\*","PatientName":"\*\*\*"/);
  assert.doesNotMatch(log.lines[1], /Doe|John/);
  assert.equal(neutralise('a\u2028b'), 'a\\u2028b');
  const json: string[] = [];
  createLogger({ format: 'json', sink: (l) => json.push(l) }).warn('x\ny', { goal: 'segment patient 99887766' });
  assert.equal(json[0].split('\n').length, 1);
  assert.match(json[0], /"goal":"segment patient \*\*\*66"/);
});
