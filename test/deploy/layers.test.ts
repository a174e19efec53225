import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { REPO_ROOT } from '../support/testdata.ts';
// @ts-expect-error -- plain-JS ESLint config module, no type declarations
import { layerRules } from '../../eslint.layers.js';

/**
 * The layer rule (issue 13 §4, eslint.layers.js) bites: an import across layers fails lint, a legal
 * one passes, and the real tree has no violation. Linting runs the layer blocks alone (no type
 * information, so files that do not exist yet, e.g. src/remote, can be linted); a separate case
 * checks that the repo's eslint.config.js applies exactly those blocks.
 */
const layersOnly = new ESLint({
  cwd: REPO_ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layerRules],
});

async function restricted(filePath: string, spec: string): Promise<string[]> {
  const [r] = await layersOnly.lintText(`import { x } from '${spec}';\nexport const y = x;\n`, { filePath });
  assert.ok(r, filePath);
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

// [file, import, allowed]
const CASES: [string, string, boolean][] = [
  ['src/core/x.ts', './errors.ts', true],
  ['src/core/x.ts', '../dicom/pacs.ts', false],
  ['src/core/x.ts', '../net/http-auth.ts', false],
  ['src/core/x.ts', 'node:fs/promises', false],
  ['src/core/x.ts', 'node:child_process', false],
  ['src/core/x.ts', 'fs', false],
  ['src/core/x.ts', 'node:crypto', true],
  ['src/core/x.ts', 'zod', true],
  ['src/geometry/contours/x.ts', '../../core/volume.ts', true],
  ['src/geometry/contours/x.ts', '../../ml/metrics.ts', false],
  ['src/geometry/contours/x.ts', 'node:fs', false],
  ['src/net/x.ts', '../core/errors.ts', true],
  ['src/net/x.ts', '../dicom/pacs.ts', false],
  ['src/io/x.ts', '../core/errors.ts', true],
  ['src/io/x.ts', '../storage/db.ts', false],
  ['src/dicom/rtstruct/x.ts', '../../geometry/contours/index.ts', true],
  ['src/dicom/rtstruct/x.ts', '../../io/nifti.ts', true],
  ['src/dicom/x.ts', '../net/http-auth.ts', true],
  ['src/dicom/x.ts', './dicomweb/server.ts', true],
  ['src/dicom/rtstruct/x.ts', '../../ml/contours/index.ts', false],
  ['src/dicom/x.ts', '../storage/pid-lock.ts', false],
  ['src/dicom/x.ts', '../agent/wiring.ts', false],
  ['src/fhir/x.ts', '../storage/db.ts', false],
  ['src/fhir/x.ts', '../dicom/pacs.ts', false],
  ['src/ml/x.ts', '../dicom/phantom/index.ts', false],
  ['src/ml/onnx/x.ts', '../../core/ports.ts', true],
  ['src/storage/x.ts', '../fhir/client.ts', false],
  ['src/storage/x.ts', '../api/server.ts', false],
  ['src/remote/x.ts', '../net/http-auth.ts', true],
  ['src/remote/x.ts', '../dicom/pacs.ts', false],
  ['src/remote/x.ts', '../services/x.ts', false],
  ['src/agent/x.ts', '../dicom/pacs.ts', true],
  ['src/agent/jobs/x.ts', '../../storage/db.ts', true],
  ['src/agent/x.ts', '../api/server.ts', false],
  ['src/agent/x.ts', '../cli/main.ts', false],
  ['src/agent/x.ts', '../serve/serve.ts', false],
  ['src/agent/x.ts', '../services/x.ts', false],
  ['src/api/x.ts', '../agent/wiring.ts', true],
  ['src/api/x.ts', '../cli/main.ts', false],
  ['src/serve/x.ts', '../api/server.ts', true],
  ['src/serve/x.ts', '../cli/main.ts', false],
  ['src/cli/verbs/x.ts', '../../serve/serve.ts', true],
  ['src/services/x.ts', '../agent/wiring.ts', true],
  // Fixtures and fakes: never from production code, anywhere in src/ ...
  ['src/services/x.ts', '../../test/support/fake-pacs.ts', false],
  ['src/cli/x.ts', '../../test/support/fake-pacs.ts', false],
  ['src/dicom/x.ts', '../../test/contracts/pacs.contract.ts', false],
  ['src/core/x.ts', '../../test/support/fake-pacs.ts', false],
  // ... while tests may use them, and may cross layers.
  ['src/dicom/x.test.ts', '../../test/contracts/pacs.contract.ts', true],
  ['src/ml/x.test.ts', '../dicom/phantom/index.ts', true],
  ['src/core/x.test.ts', 'node:fs', true],
];

for (const [file, spec, allowed] of CASES) {
  test(`${file}: import '${spec}' is ${allowed ? 'allowed' : 'refused'}`, async () => {
    const msgs = await restricted(file, spec);
    if (allowed) assert.deepEqual(msgs, []);
    else assert.equal(msgs.length, 1, `expected one no-restricted-imports error, got ${JSON.stringify(msgs)}`);
  });
}

test("the repo's eslint.config.js applies the layer blocks to production files and not to tests", async () => {
  const real = new ESLint({ cwd: REPO_ROOT });
  const rule = async (f: string) => (await real.calculateConfigForFile(f))?.rules?.['no-restricted-imports'];
  const layerOnly = async (f: string) => (await layersOnly.calculateConfigForFile(f))?.rules?.['no-restricted-imports'];
  for (const f of ['src/core/errors.ts', 'src/dicom/pacs.ts', 'src/ml/segment.ts', 'src/agent/wiring.ts', 'src/serve/serve.ts']) {
    const r = await rule(f);
    assert.ok(Array.isArray(r) && r[0] === 2, `${f}: no-restricted-imports is not an error (${JSON.stringify(r)})`);
    assert.deepEqual(r, await layerOnly(f), f);
  }
  assert.equal(await rule('src/dicom/pacs.orthanc.test.ts'), undefined);
});

test('the real tree has no layer violation', async () => {
  const results = await layersOnly.lintFiles(['src/**/*.ts']);
  assert.ok(results.length > 100, `linted only ${results.length} files`);
  const bad = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line} ${m.message}`));
  assert.deepEqual(bad, []);
});
