// The page computes in Wasm inside a Web Worker and shows the same answer as the HTTP API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, artifactsDir } from '../lib/stack.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';

let stack;
let browser;
before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('star force in the page (Wasm, Web Worker) equals POST /v1/starforce', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(stack.url + '/');
  await page.waitForSelector('body[data-state="done"]', { timeout: 30_000 });
  await page.fill('input[name="to_star"]', '17');
  // Wait until the shown result is the one for 0→17.
  const request = { item_level: 200, from_star: 0, to_star: 17 };
  const api = await (await fetch(stack.url + '/v1/starforce', { method: 'POST', body: JSON.stringify(request) })).text();
  await page.waitForFunction((expected) => document.getElementById('raw').textContent === expected, api, { timeout: 30_000 });
  const shown = await page.textContent('#raw');
  assert.equal(shown, api);
  await page.screenshot({ path: join(artifactsDir(), 'page-desktop.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
