// A real browser: Debian's Chromium, headless, driven by playwright-core, loads test/browser/page.html
// from a static server on 127.0.0.1 and reports the checks the page ran against the component.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Serves the package directory (src/, generated/, test/browser/) read-only. */
function serve() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path.includes('..')) return void res.writeHead(403).end();
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('set/get/TTL/LRU/snapshot in headless Chromium', { timeout: 120_000 }, async () => {
  assert.ok(
    existsSync(executablePath),
    `${executablePath} is missing: install Debian's chromium (cargo xtask test does it as root) or set CHROMIUM_PATH`,
  );
  const server = await serve();
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`http://127.0.0.1:${server.address().port}/test/browser/page.html`);
    await page.waitForFunction(() => window.faasCacheResult !== undefined, null, { timeout: 60_000 });
    const checks = await page.evaluate(() => window.faasCacheResult);
    assert.deepEqual(errors, []);
    assert.ok(checks.length >= 10, JSON.stringify(checks));
    for (const c of checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
  } finally {
    await browser.close();
    server.close();
  }
});
