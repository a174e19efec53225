/**
 * The indexed search of the dev server's repository must give exactly what Medplum's full scan
 * gives (same ids, same order, same total) — through creates, updates that change identifiers,
 * deletes and a journal replay. Oracle: a plain MemoryRepository fed the same writes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseSearchRequest } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import { loadR4Definitions } from './definitions.ts';
import { JournalRepository } from './journal-repository.ts';

loadR4Definitions();
const dir = mkdtempSync(join(tmpdir(), 'dfa-search-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const QUERIES = [
  'Observation?identifier=urn:dfa:result|job-1/volume/Lung_L',
  'Observation?identifier=URN:DFA:RESULT|JOB-1/VOLUME/LUNG_L', // case: whatever the matcher says
  'Observation?identifier=job-1/volume/Lung_L', // any system
  'Observation?identifier=|job-2/volume/total', // no system
  'Observation?identifier=urn:dfa:result|job-1/volume/Lung_L,urn:dfa:result|job-3/volume/Lung_R', // OR
  'Observation?identifier=urn:other|job-1/volume/Lung_L',
  'Observation?identifier=urn:dfa:result|nothing',
  'Observation?identifier=urn:dfa:result|job-1/volume/Lung_L&status=final',
  'Observation?identifier=urn:dfa:result|job-1/volume/Lung_L&status=preliminary',
  'Observation?identifier:not=urn:dfa:result|job-1/volume/Lung_L', // not indexed: scan
  'Observation?identifier=urn:dfa:result|job-4/volume/Lung_L&_count=1',
  'Observation?identifier=urn:dfa:result|job-4/volume/Lung_L&_count=1&_offset=1',
  'Observation?identifier=urn:dfa:result|renamed',
  'Observation?identifier=urn:dfa:result|job-5/volume/Lung_L', // deleted
  'Observation?status=final', // not indexed
  'Provenance?target=DiagnosticReport/dr-1',
  'Provenance?target=DiagnosticReport/dr-2',
  'Provenance?target=DiagnosticReport/dr-1,DiagnosticReport/dr-3',
  'Provenance?target=dr-1', // bare id: scan
  'Provenance?target=DiagnosticReport/none',
  'ImagingStudy?identifier=urn:dicom:uid|urn:oid:1.2.3&status=registered',
  'ImagingStudy?identifier=urn:dicom:uid|urn:oid:1.2.3&status=available',
];

async function apply(repos: readonly MemoryRepository[], fn: (r: MemoryRepository) => Promise<unknown>): Promise<void> {
  for (const r of repos) await fn(r);
}

function obs(id: string, system: string, value: string, status: 'final' | 'preliminary' = 'final'): Resource {
  return { resourceType: 'Observation', id, status, code: { text: 'volume' }, identifier: [{ system, value }] };
}

async function populate(repos: readonly MemoryRepository[]): Promise<void> {
  for (let j = 1; j <= 6; j++) {
    for (const s of ['Lung_L', 'Lung_R', 'total']) await apply(repos, (r) => r.createResource(obs(`o-${j}-${s}`, 'urn:dfa:result', `job-${j}/volume/${s}`)));
  }
  await apply(repos, (r) => r.createResource(obs('o-other', 'urn:other', 'job-1/volume/Lung_L')));
  await apply(repos, (r) => r.createResource({ resourceType: 'Observation', id: 'o-nosys', status: 'final', code: { text: 'x' }, identifier: [{ value: 'job-2/volume/total' }] }));
  await apply(repos, (r) => r.createResource(obs('o-dup', 'urn:dfa:result', 'job-4/volume/Lung_L', 'preliminary')));
  // An update that changes the identifier: the old key must stop matching.
  await apply(repos, (r) => r.updateResource(obs('o-6-Lung_L', 'urn:dfa:result', 'renamed')));
  // An update that keeps it: still found, and still in its first place.
  await apply(repos, (r) => r.updateResource(obs('o-1-Lung_L', 'urn:dfa:result', 'job-1/volume/Lung_L', 'preliminary')));
  await apply(repos, (r) => r.deleteResource('Observation', 'o-5-Lung_L'));
  for (const [id, target] of [['p1', 'DiagnosticReport/dr-1'], ['p2', 'http://example.org/fhir/DiagnosticReport/dr-2'], ['p3', 'DiagnosticReport/dr-3/_history/2'], ['p4', 'DiagnosticReport/dr-1']]) {
    await apply(repos, (r) => r.createResource({ resourceType: 'Provenance', id, recorded: '2026-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }], target: [{ reference: target }] }));
  }
  for (const [id, status] of [['s1', 'registered'], ['s2', 'available']] as const) {
    await apply(repos, (r) => r.createResource({ resourceType: 'ImagingStudy', id, status, subject: { reference: 'Patient/x' }, identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' }] }));
  }
}

async function same(indexed: MemoryRepository, oracle: MemoryRepository, label: string): Promise<void> {
  for (const q of QUERIES) {
    const [type, query] = q.split('?');
    const want = await oracle.search(parseSearchRequest(type, Object.fromEntries(new URLSearchParams(query))));
    const got = await indexed.search(parseSearchRequest(type, Object.fromEntries(new URLSearchParams(query))));
    assert.deepEqual(
      { total: got.total, ids: (got.entry ?? []).map((e) => e.resource?.id) },
      { total: want.total, ids: (want.entry ?? []).map((e) => e.resource?.id) },
      `${label}: ${q}`,
    );
  }
}

test('indexed searches return exactly what the full scan returns', async () => {
  const indexed = new JournalRepository(dir);
  const oracle = new MemoryRepository();
  await populate([indexed, oracle]);
  await same(indexed, oracle, 'live');
  // Found through the index at all (not just an empty answer twice).
  const hit = await indexed.search(parseSearchRequest('Observation', { identifier: 'urn:dfa:result|job-3/volume/Lung_R' }));
  assert.deepEqual((hit.entry ?? []).map((e) => e.resource?.id), ['o-3-Lung_R']);
});

test('the index is rebuilt from the journal on replay', async () => {
  const replayed = new JournalRepository(dir);
  await replayed.replay();
  const oracle = new MemoryRepository();
  await populate([oracle]);
  await same(replayed, oracle, 'replayed');
});
