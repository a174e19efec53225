// The layer rule (issue 13 §4): production code under src/ imports only the layers below its own,
// and never test fixtures, fakes or contract suites (those live under test/).
//
//   core (pure, no I/O)
//   ← net (HTTP/auth helpers), geometry (pure contour geometry), io (NIfTI codec, pid locks)
//   ← dicom, fhir, ml, storage, remote (siblings: never each other)
//   ← agent (jobs, planner, wiring)
//   ← api, cli, serve (the composition root), services (per-service HTTP servers)
//
// Import specifiers are relative paths, so a folder is matched as a path segment (`**/ml/**`):
// no folder inside a layer is named like a layer. One config block per layer (flat config replaces,
// never merges, a rule's options), each carrying the test/ ban as well.

const SRC = ['core', 'net', 'geometry', 'io', 'dicom', 'fhir', 'ml', 'storage', 'remote', 'agent', 'api', 'cli', 'serve', 'services'];
const DOMAINS = ['dicom', 'fhir', 'ml', 'storage', 'remote'];
const ABOVE_DOMAINS = ['agent', 'api', 'cli', 'serve', 'services'];
// A regex, not a folder pattern: `net/*` would also match the relative '../net/http-auth.ts'.
const IO_MODULES = '^(node:)?(fs|net|http|https|http2|tls|dgram|child_process)(/.*)?$';
const NOT_TESTS = ['**/*.test.ts', '**/*.test-worker.ts'];

const folders = (names) => names.map((n) => `**/${n}/**`);
const TEST_BAN = { group: ['**/test/**'], message: 'Production code never imports test fixtures, fakes or contract suites (test/); pass real parts in instead.' };

/** `forbidden`: src folders this layer may not import; `noIo`: also refuse Node's I/O modules. */
function layer(name, forbidden, why, noIo = false) {
  const patterns = [TEST_BAN, { group: folders(forbidden), message: `src/${name} may not import ${forbidden.join(', ')}: ${why}` }];
  if (noIo) patterns.push({ regex: IO_MODULES, message: `src/${name} does no I/O (file system, network, processes): take data or a port instead.` });
  return {
    name: `layers/${name}`,
    files: [`src/${name}/**/*.ts`],
    ignores: NOT_TESTS,
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

const except = (...keep) => SRC.filter((n) => !keep.includes(n));

export const layerRules = [
  // Any other production folder under src/ (a new one) still may not import test/.
  { name: 'layers/src', files: ['src/**/*.ts'], ignores: NOT_TESTS, rules: { 'no-restricted-imports': ['error', { patterns: [TEST_BAN] }] } },
  layer('core', except('core'), 'core sits below everything', true),
  layer('geometry', except('core', 'geometry'), 'shared pure geometry imports only core', true),
  layer('net', except('core', 'net'), 'shared HTTP helpers import only core'),
  layer('io', except('core', 'io'), 'shared file helpers import only core'),
  ...DOMAINS.map((d) => layer(d, [...DOMAINS.filter((o) => o !== d), ...ABOVE_DOMAINS], 'dicom/fhir/ml/storage/remote are siblings that import only core, net, geometry and io; shared code moves down a layer')),
  layer('agent', ['api', 'cli', 'serve', 'services'], 'the agent sits below the API, the CLI and the composition root'),
  layer('api', ['cli', 'serve'], 'the CLI and the composition root (serve) use the API, not the other way round'),
  layer('serve', ['cli'], 'the CLI starts the composition root, not the other way round'),
];
