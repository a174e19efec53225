import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../core/config.ts';
import { isDfaError } from '../core/errors.ts';
import { FhirClient } from '../fhir/client.ts';
import { startFhirServer, type FhirServer } from '../fhir/dev-server/server.ts';
import { FhirImagingWorkflow } from '../fhir/imaging-workflow.ts';
import { registerStudy } from '../fhir/register-study.ts';
import { FakePacs, fakeStudy } from '../../test/support/fake-pacs.ts';
import { TEST_CAPS } from '../../test/support/planner-capabilities.ts';
import { planGoal } from './planner/index.ts';
import { selectStudies } from './select-studies.ts';

// A fixed worklist on the embedded FHIR server (real R4 searches); Thursday 2026-11-26 is "today".
const now = new Date('2026-11-26T10:00:00Z');
const cfg = loadConfig({});
const uid = (n: number) => `1.2.826.0.1.3680043.8.498.${100 + n}`;
const STUDIES: [number, string, string, { accession: string; date: string; name: string; description: string }][] = [
  [1, '123', 'CT', { accession: 'A12345', date: '20261124', name: 'Doe^Jane', description: 'CT CHEST' }],
  [2, '123', 'CT', { accession: 'A2', date: '20261103', name: 'Doe^Jane', description: 'CT CHEST LOW DOSE' }],
  [3, '456', 'CT', { accession: 'A3', date: '20261120', name: 'Doe^John', description: 'CT ABDOMEN' }],
  [4, '777888', 'CT', { accession: 'A4', date: '20261125', name: 'Smith^Ann', description: 'CT THORAX' }],
  [5, '777888', 'CT', { accession: 'A5', date: '20261015', name: 'Smith^Ann', description: 'CT CHEST' }],
  [6, '111', 'CT', { accession: 'A6', date: '20261118', name: 'Roe^Richard', description: 'CT CHEST' }],
  [7, '222', 'CT', { accession: 'A7', date: '20261119', name: 'Roe^Richard', description: 'CT CHEST' }],
  [8, '333', 'MR', { accession: 'A8', date: '20261121', name: 'Poe^Edgar', description: 'MR BRAIN' }],
];
let server: FhirServer;
let wf: FhirImagingWorkflow;

before(async () => {
  server = await startFhirServer();
  const fhir = new FhirClient({ baseUrl: server.url, retryBaseMs: 5 });
  wf = new FhirImagingWorkflow(fhir);
  const pacs = new FakePacs(STUDIES.map(([n, mrn, mod, o]) => fakeStudy(uid(n), mrn, mod, o)));
  for (const [n] of STUDIES) await registerStudy(fhir, pacs, uid(n));
});
after(async () => {
  await server.stop();
});

/** The study numbers a goal selects, or the refusal (at plan time or when resolving patients). */
async function select(goal: string): Promise<number[] | { refused: string }> {
  try {
    const plan = await planGoal(goal, cfg, { capabilities: TEST_CAPS, now, planner: 'rules' });
    const items = await selectStudies(plan, wf);
    return items.map((w) => Number(w.studyInstanceUid.split('.').pop()) - 100).sort((a, b) => a - b);
  } catch (e) {
    if (isDfaError(e, 'GOAL_UNSUPPORTED')) return { refused: e.message };
    throw e;
  }
}

const ALL = [1, 2, 3, 4, 5, 6, 7, 8];
// Every phrasing from issue 11, with the selection it must make (or the refusal and the words named).
const TABLE: [string, number[] | RegExp][] = [
  ['segment the lungs on pending CT', ALL],
  ['segment the lungs for patient Jane Doe', [1, 2]],
  ['segment the lungs for patient Doe^Jane', [1, 2]],
  ['segment the lungs for patient DOE, JANE', [1, 2]],
  ['segment the lungs for patient Doe^John', [3]],
  ['segment the lungs for patient Roe^Richard', /2 patients are named Roe, Richard/],
  ['segment the lungs for patient Nobody Here', /no patient named Here, Nobody/],
  ['segment the lungs for patient 123', [1, 2]],
  ['lung segmentation for MRN 777888 on CT', [4, 5]],
  ['segment the lungs for patients 123 and 456', [1, 2, 3]],
  ['segment the lungs for patients 123, 456 and 111', [1, 2, 3, 6]],
  ['segment the lungs for patient 999999', /no patient with MRN \*\*\*9999/],
  ['segment the lungs for accession A12345', [1]],
  ['segment the lungs for study 1.2.826.0.1.3680043.8.498.103', [3]],
  ['segment the lungs from last Tuesday', [1]],
  ['segment the lungs on 2026-11-03', [2]],
  ['segment the lungs between 2026-11-18 and 2026-11-20', [3, 6, 7]],
  ['segment the lungs from last week', [3, 6, 7, 8]],
  ['segment the lungs on the 5 most recent CT studies', [1, 3, 4, 7, 8]],
  ['segment the lungs on the oldest 2 studies', [2, 5]],
  ['segment the lungs on the most recent study of patient 123', [1]],
  ['segment the lungs on chest CTs', [1, 2, 4, 5, 6, 7]],
  ['segment the lungs on studies with description LOW', [2]],
  ['segment the lungs on pending CT except patient 777888', [1, 2, 3, 6, 7, 8]],
  ['segment the lungs on pending CT, skip patient 456', [1, 2, 4, 5, 6, 7, 8]],
  ['segment the lungs except study 1.2.826.0.1.3680043.8.498.101', [2, 3, 4, 5, 6, 7, 8]],
  ['do NOT segment the lungs', /the goal says "do not segment"/],
  ["don't contour the lungs on pending CT", /the goal says "don't contour"/],
  ['segment the lungs for the nice patient', /could not place: "nice", "patient"/],
  ['segment the lungs on pending CT unless it rains', /could not place: "unless", "rains"/],
  ['segment the lungs for patient jane doe', /could not place: "patient", "jane", "doe"/],
  ['segment the lungs except the MR', /could not place: "except"/],
];

for (const [goal, want] of TABLE) {
  test(`selects: ${goal}`, async () => {
    const got = await select(goal);
    if (want instanceof RegExp) {
      assert.ok(!Array.isArray(got), `refused, but selected ${JSON.stringify(got)}`);
      assert.match(got.refused, want);
    } else assert.deepEqual(got, want);
  });
}

// Property: adding a restriction R to an accepted goal G never selects more than G; an R the planner
// cannot apply is a refusal. Checked over every pair of these goals and restrictions.
const GOALS = [
  'segment the lungs on pending CT',
  'contour both lungs on CT scans, RTSTRUCT only',
  'segment the lungs for patient 123',
  'segment the lungs from last week',
  'segment the lungs for patients 123 and 777888',
  'segment the lungs on chest CTs',
];
const RESTRICTIONS = [
  'for patient 123',
  'for patient Jane Doe',
  'for patient DOE, JANE',
  'for patient Doe^John',
  'for patient Roe^Richard',
  'for patients 456 and 777888',
  'for accession A12345',
  'for study 1.2.826.0.1.3680043.8.498.104',
  'from last Tuesday',
  'on 2026-11-03',
  'between 2026-11-01 and 2026-11-20',
  'from last week',
  'the 2 most recent',
  'oldest 3',
  'on chest scans',
  'with description ABDOMEN',
  'except patient 777888',
  'skip patient 123',
  'but not for the nice ones',
  'unless urgent',
];

test('property: G + R selects no more than G (or is refused)', async (t) => {
  let checked = 0;
  let refused = 0;
  for (const g of GOALS) {
    const base = await select(g);
    assert.ok(Array.isArray(base), `goal accepted: ${g}: ${JSON.stringify(base)}`);
    for (const r of RESTRICTIONS) {
      const got = await select(`${g} ${r}`);
      if (!Array.isArray(got)) {
        refused++;
        continue;
      }
      const wider: number[] = got.filter((n) => !(base as number[]).includes(n));
      assert.deepEqual(wider, [], `"${g} ${r}" selects ${JSON.stringify(got)}, more than "${g}" (${JSON.stringify(base)})`);
      checked++;
    }
  }
  t.diagnostic(`${checked} accepted pairs checked, ${refused} refused`);
  // Both halves of the property were exercised.
  assert.ok(checked > 60 && refused >= GOALS.length * 3, `checked ${checked}, refused ${refused}`);
});
