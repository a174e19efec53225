#!/usr/bin/env node
// Entry point for `npx dfa`. Node 24 runs the TypeScript sources directly (type stripping); an older
// Node cannot even load them, so say how to run it before importing any .ts file.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `dfa needs Node.js 24 or newer (this is ${process.version}): run it as \`npx dfa …\` from the project folder ` +
      '(npm ci installs Node 24 with the project), or install Node 24.\n',
  );
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
