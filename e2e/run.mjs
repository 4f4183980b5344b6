// The browser half of scripts/e2e: Playwright (playwright-core, no bundled browser)
// drives Debian's Chromium through Home Assistant's real web interface, as a person
// would: log in, add Blink Wallet through Settings → Devices & services (a wrong key
// first), look at the device page and the example dashboard, and watch a payment pushed
// by the simulator arrive on the dashboard and in the logbook.
//
// scripts/e2e starts Home Assistant and the simulator and passes their addresses in the
// environment (E2E_*). Onboarding goes through Home Assistant's onboarding API with a
// throwaway owner account; everything after the login happens in the browser. Every
// wait is on a condition; the first failed assertion ends the run (exit status 1) with
// a screenshot in E2E_WORK/failure.png.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set (run scripts/e2e)`);
  return value;
};
const HA = env('E2E_HA_URL');
const SIM = {
  http: env('E2E_SIM_HTTP_URL'),
  ws: env('E2E_SIM_WS_URL'),
  control: env('E2E_SIM_CONTROL_URL'),
  key: env('E2E_SIM_KEY'),
};
const CHROMIUM = env('E2E_CHROMIUM', '/usr/bin/chromium');
const WORK = env('E2E_WORK');
const SCREENSHOTS = env('E2E_SCREENSHOTS', '');
// Two shared cores: generous for page loads, strict where the issue promises speed.
const UI_TIMEOUT = Number(env('E2E_UI_TIMEOUT_MS', '45000'));
const PAYMENT_BUDGET = Number(env('E2E_PAYMENT_BUDGET_MS', '10000'));
// The Activity page is opened after the dashboard and reads what the recorder has
// committed (every 5 s by default), so it gets longer, counted from the payment too.
const LOGBOOK_BUDGET = Number(env('E2E_LOGBOOK_BUDGET_MS', '20000'));

const OWNER = { name: 'E2E Owner', username: 'e2e', password: 'e2e-password' };
const PAYMENT = { amount: 4321, memo: 'Coffee at the e2e café' };
const DASHBOARD = '/blink-wallet';

const fmt = new Intl.NumberFormat('en-US');
const fmt2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const sats = (n) => `${fmt.format(n)} sat`;
const dollars = (cents) => `$${fmt2.format(cents / 100)}`;

// --- a tiny harness ---------------------------------------------------------------------

const results = [];
const t0 = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

async function step(name, fn) {
  const start = Date.now();
  process.stdout.write(`e2e: … ${name}\n`);
  try {
    const detail = await fn();
    results.push({ ok: true, name, detail });
    process.stdout.write(`e2e: ✓ ${name} (${seconds(Date.now() - start)})\n`);
  } catch (err) {
    results.push({ ok: false, name, detail: `failed after ${seconds(Date.now() - start)}` });
    throw err;
  }
}

class AssertionFailed extends Error {}
function assert(condition, message) {
  if (!condition) throw new AssertionFailed(message);
}

// Waits for a locator and turns Playwright's timeout into a readable assertion.
async function expectVisible(locator, what, timeout = UI_TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (err) {
    if (err.name === 'TimeoutError') throw new AssertionFailed(`not shown within ${seconds(timeout)}: ${what}`);
    throw err;
  }
}

// Polls `probe` until `ok` accepts what it returns (a condition, not a fixed sleep).
async function until(what, probe, ok, timeout = UI_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new AssertionFailed(`not within ${seconds(timeout)}: ${what} (last seen: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// --- Home Assistant and simulator over HTTP -------------------------------------------------

async function http(method, url, { json, form, token } = {}) {
  const headers = {};
  let body;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (form) body = new URLSearchParams(form);
  if (json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const response = await fetch(url, { method, headers, body });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

// Onboarding through the onboarding API, like scripts/develop: the owner account, the
// location defaults, analytics, then the frontend's own client. Returns an access token.
async function onboard() {
  const clientId = `${HA}/`;
  const steps = await http('GET', `${HA}/api/onboarding`);
  assert(steps.every((s) => !s.done), `a fresh Home Assistant expected, onboarding says ${JSON.stringify(steps)}`);
  const { auth_code: code } = await http('POST', `${HA}/api/onboarding/users`, {
    json: { client_id: clientId, language: 'en', ...OWNER },
  });
  const { access_token: token } = await http('POST', `${HA}/auth/token`, {
    form: { client_id: clientId, grant_type: 'authorization_code', code },
  });
  await http('POST', `${HA}/api/onboarding/core_config`, { json: {}, token });
  await http('POST', `${HA}/api/onboarding/analytics`, { json: {}, token });
  await http('POST', `${HA}/api/onboarding/integration`, {
    json: { client_id: clientId, redirect_uri: clientId },
    token,
  });
  // Onboarding adds Radio Browser, which needs the internet this machine does not have;
  // its "failed setup" card would sit behind every screenshot of Devices & services.
  for (const entry of await http('GET', `${HA}/api/config/config_entries/entry?domain=radio_browser`, { token })) {
    await http('DELETE', `${HA}/api/config/config_entries/entry/${entry.entry_id}`, { token });
  }
  return token;
}

async function waitForRunning(token) {
  const deadline = Date.now() + UI_TIMEOUT * 4;
  for (;;) {
    const { state } = await http('GET', `${HA}/api/config`, { token });
    if (state === 'RUNNING') return;
    assert(Date.now() < deadline, `Home Assistant is still ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// --- the browser -------------------------------------------------------------------------------

// The text a person sees in an element: its shadow trees and slotted content included.
// Installed into every page; `ownOnly` skips the element's own shadow tree (an entity
// row's name) and reads only what it was given (the row's state).
function installTextHelper() {
  globalThis.e2eText = (element, ownOnly = false) => {
    const parts = [];
    const walk = (node) => {
      if (node.nodeType === Node.TEXT_NODE) {
        parts.push(node.textContent);
      } else if (['STYLE', 'SCRIPT', 'TEMPLATE'].includes(node.nodeName)) {
        // not text
      } else if (node.nodeName === 'SLOT') {
        node.assignedNodes({ flatten: true }).forEach(walk);
      } else if (node.shadowRoot) {
        walk(node.shadowRoot);
      } else {
        node.childNodes.forEach(walk);
      }
    };
    if (ownOnly) element.childNodes.forEach(walk);
    else walk(element);
    return parts.join(' ').replace(/\s+/g, ' ').trim();
  };
}
const deepText = (locator) => locator.evaluate((el) => globalThis.e2eText(el));

async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Nothing animating, no caret, nothing hovered.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(SCREENSHOTS, name), animations: 'disabled', caret: 'hide' });
}

const hassReady = (page) =>
  page.waitForFunction(() => document.querySelector('home-assistant')?.hass?.connected === true, null, {
    timeout: UI_TIMEOUT,
  });

// One action through the frontend's own authenticated connection, for setup only.
const callWS = (page, message) =>
  page.evaluate((msg) => document.querySelector('home-assistant').hass.callWS(msg), message);

async function openAddIntegration(page) {
  await page.getByRole('button', { name: /Add integration/i }).click();
  const picker = page.locator('dialog-add-integration');
  await picker.getByPlaceholder('Search for a brand name').fill('Blink Wallet');
  await picker.getByText('Blink Wallet', { exact: true }).click();
  const flow = page.locator('dialog-data-entry-flow');
  await expectVisible(flow.getByText('Connect your Blink wallet'), 'the config flow dialog "Connect your Blink wallet"');
  return flow;
}

async function main() {
  let page;
  const context = await chromium.launchPersistentContext(path.join(WORK, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    locale: 'en-US',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await context.addInitScript(installTextHelper);
  const pageErrors = [];
  try {
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('pageerror', (err) => pageErrors.push(err.message));

    let token;
    await step('onboard a fresh Home Assistant through the onboarding API', async () => {
      token = await onboard();
      await waitForRunning(token);
      return `owner "${OWNER.username}"`;
    });

    await step('log in on the login page', async () => {
      await page.goto(`${HA}/`);
      await page.getByRole('textbox', { name: 'Username' }).fill(OWNER.username);
      await page.getByRole('textbox', { name: 'Password' }).fill(OWNER.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/auth'));
      await hassReady(page);
      // Tidy the throwaway instance for the screenshots: set the country and ignore the
      // "unsupported installation method" notice (a venv); Blink's own issues stay.
      await callWS(page, { type: 'config/core/update', country: 'SV' });
      const { issues } = await callWS(page, { type: 'repairs/list_issues' });
      for (const issue of issues.filter((i) => i.domain === 'homeassistant' && !i.ignored)) {
        await callWS(page, { type: 'repairs/ignore_issue', domain: issue.domain, issue_id: issue.issue_id, ignore: true });
      }
    });

    let flow;
    await step('Settings → Devices & services → Add integration → Blink Wallet shows the translated form', async () => {
      await page.locator('ha-sidebar').getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('link', { name: /Devices & services/ }).click();
      await page.waitForURL(/\/config\/integrations/);
      flow = await openAddIntegration(page);
      for (const [what, locator] of [
        ['the "API key" field', flow.getByRole('textbox', { name: 'API key' })],
        ['the "Environment" label', flow.getByText('Environment', { exact: true })],
        ['the option "Blink"', flow.getByRole('radio', { name: 'Blink', exact: true })],
        ['the option "Blink staging (test network)"', flow.getByRole('radio', { name: 'Blink staging (test network)' })],
        ['the option "Custom Galoy instance"', flow.getByRole('radio', { name: 'Custom Galoy instance' })],
      ]) {
        await expectVisible(locator, what);
      }
      return 'API key, Environment: Blink / Blink staging (test network) / Custom Galoy instance';
    });

    const fillEndpoint = async () => {
      await expectVisible(flow.getByText('Custom Galoy instance'), 'the endpoint step');
      await flow.getByRole('textbox', { name: 'GraphQL HTTP URL' }).fill(SIM.http);
      await flow.getByRole('textbox', { name: 'GraphQL WebSocket URL' }).fill(SIM.ws);
      await flow.getByRole('textbox', { name: 'Lightning address domain' }).fill('blink.localhost');
      await flow.getByRole('button', { name: 'Submit' }).click();
    };

    await step('a wrong API key shows "Invalid authentication"', async () => {
      await flow.getByRole('textbox', { name: 'API key' }).fill('not-the-key');
      await flow.getByRole('radio', { name: 'Custom Galoy instance' }).check();
      await flow.getByRole('button', { name: 'Submit' }).click();
      for (const label of ['GraphQL HTTP URL', 'GraphQL WebSocket URL', 'Lightning address domain']) {
        await expectVisible(flow.getByRole('textbox', { name: label }), `the "${label}" field`);
      }
      await fillEndpoint();
      await expectVisible(flow.getByText('Invalid authentication'), 'the error "Invalid authentication"');
      return 'endpoint step labels shown; invalid_auth translated';
    });

    await step('the simulator\'s key and endpoint add the entry', async () => {
      const keyField = flow.getByRole('textbox', { name: 'API key' });
      if (!(await keyField.isVisible())) {
        // The error came on the endpoint step, which has no key field: start again,
        // as a person would.
        await flow.getByRole('button', { name: 'Close' }).first().click();
        await flow.getByText('Invalid authentication').waitFor({ state: 'hidden' });
        flow = await openAddIntegration(page);
      }
      await flow.getByRole('textbox', { name: 'API key' }).fill(SIM.key);
      await screenshot(page, 'config-flow.png');
      await flow.getByRole('radio', { name: 'Custom Galoy instance' }).check();
      await flow.getByRole('button', { name: 'Submit' }).click();
      await fillEndpoint();
      // The success step names the new device after the account.
      const deviceName = flow.getByRole('textbox', { name: 'Device name' });
      await expectVisible(deviceName, 'the success step with the device name');
      const name = await deviceName.inputValue();
      assert(name === 'satoshi', `the device is called ${JSON.stringify(name)}, not "satoshi"`);
      await flow.getByRole('button', { name: /finish/i }).click();
      await flow.getByRole('textbox', { name: 'Device name' }).waitFor({ state: 'hidden' });
      return 'entry "satoshi" created';
    });

    // An entity row of the device page: the name in its shadow tree, the state as the
    // row's own text.
    const rowState = async (name) => {
      const row = page.locator('ha-device-entities-card hui-generic-entity-row').filter({
        has: page.getByText(name, { exact: true }),
      });
      return (await row.count()) === 1 ? row.evaluate((el) => globalThis.e2eText(el, true)) : undefined;
    };
    const expected = await http('GET', `${SIM.control}/state`);
    await step('the device page lists price and balances with values', async () => {
      // Finishing the flow opens the new device's page.
      await page.waitForURL(/\/config\/devices\/device\//);
      await expectVisible(page.getByText('Bitcoin wallet'), 'the device page of "satoshi" (model "Bitcoin wallet")');
      const price = `${fmt2.format(Number(expected.btc_usd))} USD`;
      for (const [name, value] of [
        ['BTC price', price],
        ['BTC balance', sats(expected.btc_balance)],
        ['Stablesats balance', dollars(expected.usd_balance)],
        ['Live connection', 'Connected'],
      ]) {
        await until(`the row "${name}" shows ${value}`, () => rowState(name), (state) => state === value);
      }
      return `BTC price ${price}, BTC balance ${sats(expected.btc_balance)}, Stablesats balance ${dollars(expected.usd_balance)}, connected`;
    });

    // hui-error-card: a card the frontend could not build (unknown type, bad config);
    // hui-warning: e.g. "Entity not available". Cards load lazily, so wait until there
    // are none; one that stays fails the run with its text.
    const problemCards = () =>
      page.evaluate(() => {
        const found = [];
        const visit = (root) => {
          for (const el of root.querySelectorAll('*')) {
            if (el.localName === 'hui-error-card' || el.localName === 'hui-warning') {
              found.push(`${el.localName}: ${(el.shadowRoot ?? el).textContent.replace(/\s+/g, ' ').trim()}`);
            }
            if (el.shadowRoot) visit(el.shadowRoot);
          }
        };
        visit(document);
        return found;
      });
    const noErrorCards = async (what) => {
      let transient = [];
      await until(`no hui-error-card or hui-warning on ${what}`, problemCards, (found) => {
        if (found.length) transient = found;
        return found.length === 0;
      });
      if (transient.length) process.stdout.write(`e2e: note: while loading, ${what} showed for a moment: ${transient.join(' | ')}\n`);
    };

    // What a card shows, shadow trees included, polled until it says what we expect.
    const tile = (name) => page.locator('hui-tile-card').filter({ has: page.getByText(name, { exact: true }) });
    const shows = (what, locator, expectedText, timeout = UI_TIMEOUT) =>
      until(
        what,
        async () => ((await locator.count()) === 1 ? deepText(locator) : `${await locator.count()} matches`),
        (text) => (expectedText instanceof RegExp ? expectedText.test(text) : text.includes(expectedText)),
        timeout,
      );
    const logbookEntries = (scope) =>
      scope.locator('ha-logbook-entry').evaluateAll((entries) => entries.map((e) => globalThis.e2eText(e)));
    const paymentCard = page.locator('hui-markdown-card');
    const logbookCard = page.locator('hui-logbook-card');

    await step('the example dashboard renders without error cards', async () => {
      await page.locator('ha-sidebar').getByRole('link', { name: 'Blink Wallet' }).click();
      await page.waitForURL(new RegExp(`${DASHBOARD}/`));
      await shows('the BTC price tile', tile('BTC price'), `${fmt2.format(Number(expected.btc_usd))} USD`);
      await shows('the BTC wallet tile', tile('BTC wallet'), sats(expected.btc_balance));
      await shows('the Stablesats wallet tile', tile('Stablesats wallet'), dollars(expected.usd_balance));
      await shows('the Live connection tile', tile('Live connection'), 'Connected');
      await shows('the latest payment card', paymentCard, 'No payment since the integration was set up.');
      await shows('the statistics graph card', page.locator('hui-statistics-graph-card'), 'Last 30 days');
      await expectVisible(logbookCard, 'the logbook card');
      await noErrorCards('the dashboard, once its cards have loaded');
      const before = await logbookEntries(logbookCard);
      assert(before.length === 0, `the logbook card shows payments before any was made: ${before.join(' | ')}`);
      return `${await page.locator('hui-card').count()} cards, no hui-error-card, no hui-warning`;
    });

    let paidAt;
    await step(`a payment of ${sats(PAYMENT.amount)} appears on the dashboard`, async () => {
      paidAt = Date.now();
      const paid = await http('POST', `${SIM.control}/pay`, { json: PAYMENT });
      const left = () => PAYMENT_BUDGET - (Date.now() - paidAt);
      await shows(`the BTC wallet tile at ${sats(paid.btc_balance)}`, tile('BTC wallet'), sats(paid.btc_balance), left());
      await shows('the amount on the latest payment card', paymentCard, `${fmt.format(PAYMENT.amount)} sats`, left());
      await shows('the memo on the latest payment card', paymentCard, PAYMENT.memo, left());
      await until('one "Received" entry in the logbook card', () => logbookEntries(logbookCard), (e) => e.length === 1 && e[0].includes('Received'), left());
      await shows('the Last payment tile', tile('Last payment'), /\d+ seconds? ago|now/, left());
      const latency = Date.now() - paidAt;
      await noErrorCards('the dashboard after the payment');
      await screenshot(page, 'dashboard.png');
      return `balance ${sats(paid.btc_balance)}, amount, memo, logbook entry and last payment shown ${seconds(latency)} after the payment (budget ${seconds(PAYMENT_BUDGET)})`;
    });

    await step('the payment is in the logbook (Activity)', async () => {
      await page.locator('ha-sidebar').getByRole('link', { name: 'Activity' }).click();
      await page.waitForURL(/\/logbook/);
      await until(
        `an entry "Payments → Received" of satoshi in the logbook within ${seconds(LOGBOOK_BUDGET)} of the payment`,
        () => logbookEntries(page),
        (entries) => entries.some((e) => /Payments → Received/.test(e) && e.includes('satoshi')),
        LOGBOOK_BUDGET - (Date.now() - paidAt),
      );
      return `"Payments → Received" of satoshi, ${seconds(Date.now() - paidAt)} after the payment (budget ${seconds(LOGBOOK_BUDGET)})`;
    });

    await step('the device page, reached from the integration, shows the payment', async () => {
      await page.locator('ha-sidebar').getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('link', { name: /Devices & services/ }).click();
      await page.locator('ha-integration-card').filter({ has: page.getByText('Blink Wallet', { exact: true }) }).click();
      await page.waitForURL(/\/config\/integrations\/integration\/blink_wallet/);
      await page.getByText('Bitcoin wallet').first().click();
      await page.waitForURL(/\/config\/devices\/device\//);
      const balance = sats(expected.btc_balance + PAYMENT.amount);
      await until(`the row "BTC balance" shows ${balance}`, () => rowState('BTC balance'), (state) => state === balance);
      for (const name of ['Payments', 'Last payment']) {
        await until(`the row "${name}" shows a moment ago`, () => rowState(name), (state) => /seconds? ago|minutes? ago|now/.test(state ?? ''));
      }
      await until(
        'the payment in the device\'s activity',
        () => logbookEntries(page),
        (entries) => entries.some((e) => /Payments\b.*\bReceived/.test(e)),
      );
      await screenshot(page, 'device.png');
      return `BTC balance ${balance}; Payments and Last payment updated; the payment in the device's activity`;
    });

    await step('no repair issue from Blink Wallet', async () => {
      const { issues } = await callWS(page, { type: 'repairs/list_issues' });
      const ours = issues.filter((i) => i.domain === 'blink_wallet');
      assert(ours.length === 0, `repair issues: ${JSON.stringify(ours)}`);
    });
  } catch (err) {
    if (page) {
      const shot = path.join(WORK, 'failure.png');
      await page.screenshot({ path: shot }).catch(() => {});
      const text = await deepText(page.locator('body')).catch(() => '');
      process.stdout.write(`e2e: page ${page.url()}\ne2e: page text: ${text.slice(0, 1500)}\ne2e: screenshot ${shot}\n`);
    }
    process.stdout.write(`e2e: ✗ ${err instanceof AssertionFailed ? err.message : err.stack}\n`);
    process.exitCode = 1;
  } finally {
    await context.close();
  }
  if (pageErrors.length) process.stdout.write(`e2e: note: the page reported ${pageErrors.length} script error(s): ${pageErrors.slice(0, 3).join(' | ')}\n`);
  const passed = results.filter((r) => r.ok).length;
  process.stdout.write(
    `\ne2e: ${process.exitCode ? 'FAILED' : 'passed'}: ${passed} of ${results.length} step(s) in ${seconds(Date.now() - t0)} (browser part)\n`,
  );
  for (const r of results) process.stdout.write(`  ${r.ok ? '✓' : '✗'} ${r.name}${r.detail ? ` — ${r.detail}` : ''}\n`);
}

await main();
