import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { isDfaError } from '../core/errors.ts';
import type { FhirClient, FhirClientOptions } from './client.ts';

/**
 * The FHIR contract the workflow relies on, as server-agnostic cases: the dev server runs them in
 * CI (client.test.ts) and `dfa fhir contract` runs them against any R4 server (HAPI, Google
 * Cloud Healthcare, Medplum). Every case marks what it writes with a random family name, so a
 * shared test server can be used; nothing is deleted afterwards.
 */
export interface ContractContext {
  readonly client: FhirClient;
  /** A client on the same server with other options (e.g. a fetch that races). */
  readonly makeClient: (o?: Partial<FhirClientOptions>) => FhirClient;
  /** Unique per case: use as Patient.name.family / identifier value. */
  readonly mark: string;
}

export interface ContractCase {
  readonly name: string;
  run(ctx: ContractContext): Promise<void>;
}

const MRN = 'urn:dfa:contract';
const patient = (mark: string, value = mark): Patient => ({ resourceType: 'Patient', identifier: [{ system: MRN, value }], name: [{ family: mark }] });

export function newMark(): string {
  return `dfa${randomBytes(6).toString('hex')}`;
}

export const FHIR_CONTRACT: readonly ContractCase[] = [
  {
    name: 'create returns id + versionId; read returns it with a matching ETag',
    async run({ client, mark }) {
      const { resource, created } = await client.create(patient(mark));
      assert.equal(created, true);
      assert.ok(resource.id && resource.meta?.versionId);
      const r = await client.request<Patient>('GET', `Patient/${resource.id}`);
      assert.match(r.etag ?? '', new RegExp(`"${resource.meta?.versionId}"`));
      assert.equal(r.body.name?.[0]?.family, mark);
    },
  },
  {
    name: 'search follows next links across 3+ pages to the end',
    async run({ client, mark }) {
      for (let i = 0; i < 7; i++) await client.create(patient(mark, `${mark}-${i}`));
      const all = await client.search<Patient>('Patient', { family: mark, _count: 2 });
      assert.equal(all.length, 7);
      assert.equal(new Set(all.map((p) => p.id)).size, 7);
    },
  },
  {
    name: 'conditional create (If-None-Exist) returns the existing match, no duplicate',
    async run({ client, mark }) {
      const a = await client.create(patient(mark), { ifNoneExist: `identifier=${MRN}|${mark}` });
      const b = await client.create(patient(mark), { ifNoneExist: `identifier=${MRN}|${mark}` });
      assert.equal(a.created, true);
      assert.equal(b.created, false);
      assert.equal(b.resource.id, a.resource.id);
      assert.equal((await client.search('Patient', { identifier: `${MRN}|${mark}` })).length, 1);
    },
  },
  {
    name: 'conditional update creates once, then updates the match',
    async run({ client, mark }) {
      const a = await client.conditionalUpdate({ ...patient(mark), gender: 'male' }, { identifier: `${MRN}|${mark}` });
      const b = await client.conditionalUpdate({ ...patient(mark), gender: 'female' }, { identifier: `${MRN}|${mark}` });
      assert.equal(a.created, true);
      assert.equal(b.created, false);
      assert.equal(b.resource.id, a.resource.id);
      assert.equal((await client.read<Patient>('Patient', a.resource.id)).gender, 'female');
    },
  },
  {
    name: 'update with a stale If-Match is refused (412 → FHIR_CONFLICT), nothing overwritten',
    async run({ client, mark }) {
      const { resource } = await client.create(patient(mark));
      const v1 = resource.meta?.versionId;
      await client.update({ ...resource, gender: 'male' }, { ifMatch: v1 });
      await assert.rejects(() => client.update({ ...resource, gender: 'female' }, { ifMatch: v1 }), (e) => isDfaError(e, 'FHIR_CONFLICT'));
      assert.equal((await client.read<Patient>('Patient', resource.id)).gender, 'male');
    },
  },
  {
    name: 'a write between read and PUT → 412 → re-read and re-apply once, both changes kept',
    async run({ client, makeClient, mark }) {
      const { resource } = await client.create(patient(mark));
      let raced = false;
      const racing: typeof fetch = async (input, init) => {
        if (init?.method === 'PUT' && !raced) {
          raced = true;
          const cur = await client.read<Patient>('Patient', resource.id);
          await client.update({ ...cur, gender: 'female' }, { ifMatch: cur.meta?.versionId });
        }
        return fetch(input, init);
      };
      let applied = 0;
      const out = await makeClient({ fetch: racing }).modify<Patient>('Patient', resource.id, (p) => {
        applied++;
        return { ...p, active: true };
      });
      assert.equal(applied, 2);
      assert.equal(out.active, true);
      assert.equal(out.gender, 'female');
    },
  },
  {
    name: 'JSON Patch applies; a stale If-Match on PATCH is refused',
    async run({ client, mark }) {
      const { resource } = await client.create(patient(mark));
      const p = await client.patch<Patient>('Patient', resource.id, [{ op: 'add', path: '/active', value: true }], { ifMatch: resource.meta?.versionId });
      assert.equal(p.active, true);
      await assert.rejects(
        () => client.patch('Patient', resource.id, [{ op: 'add', path: '/gender', value: 'male' }], { ifMatch: resource.meta?.versionId }),
        (e) => isDfaError(e, 'FHIR_CONFLICT'),
      );
    },
  },
  {
    name: 'transaction bundle: entries applied, urn:uuid references resolved',
    async run({ client, mark }) {
      const full = `urn:uuid:${crypto.randomUUID()}`;
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: full, resource: patient(mark), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Observation', status: 'final', code: { text: mark }, subject: { reference: full } }, request: { method: 'POST', url: 'Observation' } },
        ],
      };
      const out = await client.transaction(bundle);
      assert.equal(out.type, 'transaction-response');
      assert.deepEqual(out.entry?.map((e) => e.response?.status.slice(0, 3)), ['201', '201']);
      // Location: 'Observation/<id>', maybe absolute, maybe with /_history/<v> (HAPI).
      const m = /([A-Za-z]+)\/([^/]+?)(?:\/_history\/[^/]+)?$/.exec(out.entry?.[1]?.response?.location ?? '');
      assert.ok(m, 'transaction response has a location');
      const obs = await client.read<Observation>('Observation', m[2] ?? '');
      assert.match(obs.subject?.reference ?? '', /^Patient\//);
    },
  },
];

/** Runs every case against a client; returns one line per case (for `dfa fhir contract`). */
export async function runFhirContract(makeClient: (o?: Partial<FhirClientOptions>) => FhirClient): Promise<{ name: string; ok: boolean; error?: string }[]> {
  const out: { name: string; ok: boolean; error?: string }[] = [];
  for (const c of FHIR_CONTRACT) {
    try {
      await c.run({ client: makeClient(), makeClient, mark: newMark() });
      out.push({ name: c.name, ok: true });
    } catch (e) {
      out.push({ name: c.name, ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
    }
  }
  return out;
}
