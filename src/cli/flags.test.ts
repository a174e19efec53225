import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HELP_FLAG, defineFlags, flagHelpLines, parseVerbArgs, unknownOption } from './flags.ts';

// One declaration gives the help lines, the unknown-option check and the parser: test the derivation.
const FLAGS = defineFlags({
  study: { type: 'string', value: 'uid', help: 'one StudyInstanceUID' },
  'older-than-days': { type: 'string', value: 'n', help: 'instead of the retention setting' },
  known: { type: 'string', value: 'AE@host:port', multiple: true, default: [], help: 'a move destination (repeatable)' },
  mask: { type: 'string', value: 'ROI=nii', multiple: true, help: 'one mask per ROI (repeatable)' },
  port: { type: 'string', value: 'n', default: '4242', help: 'port' },
  'center-z': { type: 'string', value: 'mm', help: '' },
  json: { type: 'boolean', help: 'JSON output' },
  verbose: { type: 'boolean', short: 'v', help: 'say more' },
});

test('help lines: every declared flag, in order, with its <value>; help texts aligned; short aliases shown', () => {
  const lines = flagHelpLines({ ...FLAGS, help: HELP_FLAG });
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/)[0]),
    ['--study', '--older-than-days', '--known', '--mask', '--port', '--center-z', '--json', '--verbose', '--help'],
  );
  for (const [name, d] of Object.entries(FLAGS)) {
    const line = lines.find((l) => l.startsWith(`--${name} `) || l === `--${name}`);
    assert.ok(line, name);
    if (d.type === 'string') assert.ok(line.startsWith(`--${name} <${d.value}>`), line);
    else assert.doesNotMatch(line, /</, line);
    if (d.help) assert.ok(line.includes(d.help), line);
  }
  assert.equal(lines[0], `${'--study <uid>'.padEnd(21)}  one StudyInstanceUID`);
  const column = (l: string) => l.search(/(?<=\s\s)\S/);
  assert.equal(new Set(lines.filter((l) => /\s{2}\S/.test(l) && !l.startsWith('--known')).map(column)).size, 1, 'one column');
  assert.equal(lines[2], '--known <AE@host:port>  a move destination (repeatable)', 'longer than the cap: two spaces');
  assert.equal(lines.at(-1), `${'--help'.padEnd(21)}  this help (also -h)`);
  assert.equal(lines.find((l) => l.startsWith('--verbose')), `${'--verbose'.padEnd(21)}  say more (also -v)`);
  assert.equal(lines.find((l) => l.startsWith('--center-z')), '--center-z <mm>', 'no help: no trailing spaces');
  // Short names sit in column 19 as before; a very long one does not push every line right.
  assert.equal(flagHelpLines({ json: { type: 'boolean', help: 'JSON output' } })[0], '--json             JSON output');
  const long = flagHelpLines({ source: { type: 'string', value: 'manual|ground-truth|model', help: 'who' }, json: { type: 'boolean', help: 'JSON output' } });
  assert.deepEqual(long, ['--source <manual|ground-truth|model>  who', `${'--json'.padEnd(21)}  JSON output`]);
});

test('parseVerbArgs: --x=v and --x v, repeatable flags in order, defaults, booleans false when absent', () => {
  const none = parseVerbArgs(FLAGS, []);
  assert.deepEqual(none.values, { known: [], port: '4242', json: false, verbose: false });
  assert.deepEqual(none.positionals, []);
  const r = parseVerbArgs(FLAGS, ['--study', '1.2.3', '--older-than-days=30', '--known', 'A@h:1', '--known=B@h:2', '--mask', 'L=l.nii', '--json', '-v', '--port=11112']);
  assert.equal(r.values.study, '1.2.3');
  assert.equal(r.values['older-than-days'], '30');
  assert.deepEqual(r.values.known, ['A@h:1', 'B@h:2']);
  assert.deepEqual(r.values.mask, ['L=l.nii']);
  assert.equal(r.values.port, '11112');
  assert.equal(r.values.json, true);
  assert.equal(r.values.verbose, true);
  // The types follow the declaration: no casts needed, and a boolean is never undefined.
  const typed: { study: string | undefined; known: string[]; mask: string[] | undefined; port: string; json: boolean } = r.values;
  assert.ok(typed);
  // @ts-expect-error a switch is true or false, never undefined
  const absent: undefined = r.values.json;
  assert.ok(absent !== undefined);
  // @ts-expect-error a value flag names its placeholder
  assert.ok(defineFlags({ out: { type: 'string', help: 'where' } }));
});

test('parseVerbArgs refuses what the declaration does not allow (ERR_PARSE_ARGS_*, exit 2 in main)', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'no error';
  };
  assert.equal(code(() => parseVerbArgs(FLAGS, ['--bogus'])), 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
  assert.equal(code(() => parseVerbArgs(FLAGS, ['--study'])), 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'a value flag needs its value');
  assert.equal(code(() => parseVerbArgs(FLAGS, ['--json=yes'])), 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'a switch takes none');
  assert.equal(code(() => parseVerbArgs(FLAGS, ['file.dcm'])), 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL');
  assert.equal(code(() => parseVerbArgs(FLAGS, ['--study', '--json'])), 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'an option is not silently taken as a value');
});

test('parseVerbArgs: positionals when allowed, -- ends the options, negative numbers are values or positionals', () => {
  const r = parseVerbArgs(FLAGS, ['read', 'a.dcm', '--json', '--', '--study', '-x'], { allowPositionals: true });
  assert.deepEqual(r.positionals, ['read', 'a.dcm', '--study', '-x']);
  assert.equal(r.values.study, undefined);
  assert.equal(r.values.json, true);
  const neg = parseVerbArgs(FLAGS, ['--center-z', '-20', 'shift', '-0.5', '--port', '-1'], { allowPositionals: true });
  assert.equal(neg.values['center-z'], '-20');
  assert.equal(neg.values.port, '-1');
  assert.deepEqual(neg.positionals, ['shift', '-0.5']);
});

test('unknownOption agrees with the parser: declared long and short names, values skipped, -- and negative numbers', () => {
  assert.equal(unknownOption(['--study', '--weird-uid', '--json'], FLAGS), undefined, 'a value flag takes the next argument');
  assert.equal(unknownOption(['--study=1', '--bogus'], FLAGS), '--bogus');
  assert.equal(unknownOption(['-v', '-x'], FLAGS), '-x');
  assert.equal(unknownOption(['--', '--bogus'], FLAGS), undefined);
  assert.equal(unknownOption(['-20', '-', 'x'], FLAGS), undefined);
  assert.equal(unknownOption(['--json=1', '--bogus=2'], FLAGS), '--bogus=2');
  assert.equal(unknownOption(['--constructor'], FLAGS), '--constructor');
  assert.equal(unknownOption(['--x'], {}), '--x');
});
