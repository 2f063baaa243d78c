// Type-checks a small consumer of the package's types (test/types/consumer.ts against
// src/index.d.ts; strict, "lib": ["es2022"]) with the TypeScript in node_modules. TypeScript is
// not a dependency of the package: without node_modules/typescript the test is skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const typescriptManifest = new URL('../node_modules/typescript/package.json', import.meta.url);
const missing = existsSync(typescriptManifest)
  ? false
  : 'node_modules/typescript is missing: install TypeScript as a devDependency (npm install) to type-check src/index.d.ts';

test('src/index.d.ts type-checks for a strict consumer with lib es2022', { skip: missing }, () => {
  const manifest = JSON.parse(readFileSync(typescriptManifest, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.tsc;
  const tsc = fileURLToPath(new URL(bin, typescriptManifest));
  const result = spawnSync(process.execPath, [tsc, '-p', 'test/types/tsconfig.json'], {
    cwd: packageDir,
    encoding: 'utf8',
  });
  assert.equal(result.error, undefined, `could not run ${tsc}: ${result.error}`);
  assert.equal(
    result.status,
    0,
    `tsc ${manifest.version} found errors:\n${result.stdout}${result.stderr}`,
  );
});
