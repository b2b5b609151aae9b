// What every browser test needs: a Samverka server of its own (the real binary, demo data in
// a temp dir), Debian's Chromium through playwright-core, logging in as a demo account, and
// axe-core's WCAG 2.1 AA check of a page; for the person's pages, a real OpenID Connect
// provider (oidc-provider-mock from PyPI, as the Rust tests use) standing in for e-legitimation.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { before, after } from "node:test";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, "..");
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

function binary() {
  if (process.env.SAMVERKA_TEST_BIN) return process.env.SAMVERKA_TEST_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repo, "target");
  return join(target, "debug", "samverka");
}

/** A port free on this machine now. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The claim the test provider puts the personnummer in (the OIDC Sweden profile's). */
export const PERSONNUMMER_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber";

/**
 * Starts oidc-provider-mock (installed by scripts/test into target/oidc-venv) on a free port.
 * `know(sub, claims)` tells it who someone is before they sign in there.
 */
export async function startOidcProvider() {
  const bin =
    process.env.SAMVERKA_TEST_OIDC_PROVIDER || join(repo, "target", "oidc-venv", "bin", "oidc-provider-mock");
  const port = await freePort();
  const child = spawn(bin, ["--host", "127.0.0.1", "--port", String(port), "--require-nonce", "true"], {
    stdio: "ignore",
  });
  const issuer = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 300) throw new Error(`the OIDC provider did not start (${bin})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    issuer,
    async know(sub, claims) {
      const res = await fetch(`${issuer}/users/${sub}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(claims),
      });
      assert.ok(res.ok, `the provider knows ${sub}: ${res.status}`);
    },
    stop() {
      child.kill("SIGTERM");
    },
  };
}

/**
 * Starts `samverka serve --demo` on a fresh SQLite file with `patients` demo patients; with
 * `oidcIssuer`, the person's pages sign in through that provider ("BankID (test)").
 */
export async function startServer({ patients = 30, oidcIssuer } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "samverka-e2e-"));
  // The port is chosen first: the OIDC provider sends the browser back to it, and a restarted
  // server takes it again.
  const port = await freePort();
  const env = { ...process.env, SAMVERKA_DATA_DIR: dir, SAMVERKA_LISTEN: `127.0.0.1:${port}`, SAMVERKA_LOG: "warn" };
  if (oidcIssuer) {
    writeFileSync(join(dir, "oidc-secret"), "test-secret");
    const config = [
      "[[oidc]]",
      'id = "bankid"',
      'name = "BankID (test)"',
      `issuer = "${oidcIssuer}"`,
      'client_id = "samverka"',
      `client_secret_file = "${join(dir, "oidc-secret")}"`,
      `redirect_url = "http://127.0.0.1:${port}/min/logga-in/bankid/tillbaka"`,
      'audience = "person"',
    ].join("\n");
    writeFileSync(join(dir, "samverka.toml"), config);
    env.SAMVERKA_CONFIG = join(dir, "samverka.toml");
  }
  const filled = spawnSync(binary(), ["demo", "--patients", String(patients)], { env, encoding: "utf8" });
  if (filled.status !== 0) throw new Error(`samverka demo failed: ${filled.stderr}`);
  const serve = () => {
    const child = spawn(binary(), ["serve", "--demo"], { env, stdio: ["ignore", "pipe", "inherit"] });
    const up = new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const m = out.match(/http:\/\/[0-9.:]+/);
        if (m) resolve(m[0]);
      });
      child.on("exit", (code) => reject(new Error(`samverka serve ended (${code}): ${out}`)));
    });
    return { child, up };
  };
  let running = serve();
  const base = await running.up;
  return {
    base,
    /** Stops the server with SIGTERM (it leaves in order) and starts it again on the same port. */
    async restart() {
      const exited = new Promise((resolve) => running.child.once("exit", resolve));
      running.child.kill("SIGTERM");
      await exited;
      running = serve();
      await running.up;
    },
    /** Stops the server and waits until it has left (it folds its access-log journal on the
     * way out) before its folder is removed. */
    async stop() {
      if (running.child.exitCode === null && running.child.signalCode === null) {
        const exited = new Promise((resolve) => running.child.once("exit", resolve));
        running.child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--lang=sv-SE",
    ],
  });
}

/** The demo accounts on the login page: work ("Vårdsamordnare – …") → username. */
export async function demoAccounts(browser, base) {
  const page = await browser.newPage();
  await page.goto(`${base}/logga-in`);
  const rows = await page.$$eval("section.demo tbody tr", (trs) =>
    trs.map((tr) => ({ username: tr.cells[0].innerText.trim(), work: tr.cells[1].innerText.trim() })),
  );
  await page.close();
  return rows;
}

/** A new browser context (its own cookies) logged in as `username` with the demo password. */
export async function login(browser, base, username, { lang } = {}) {
  const context = await browser.newContext({ locale: "sv-SE", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  if (lang === "en") await page.goto(`${base}/sprak/en`);
  await page.goto(`${base}/logga-in`);
  await page.getByLabel(lang === "en" ? "Username" : "Användarnamn").fill(username);
  await page.getByLabel(lang === "en" ? "Password" : "Lösenord").fill("samverka-demo");
  await page.getByRole("button", { name: lang === "en" ? "Log in" : "Logga in" }).click();
  // On a demo server the code step shows the account's code right now, already filled in.
  const field = page.getByLabel(lang === "en" ? "Six-digit code" : "Sexsiffrig kod");
  const code = await page.locator("div.alert code.code").innerText();
  if ((await field.inputValue()) !== code) throw new Error(`the demo code ${code} is not filled in`);
  await page.getByRole("button", { name: lang === "en" ? "Continue" : "Fortsätt" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/logga-in"));
  return { context, page };
}

/** Runs axe-core on the page as it is; returns the WCAG 2.1 A/AA violations. */
export async function axe(page) {
  // Evaluated through the DevTools protocol: the page's own CSP (script-src 'self') stays on.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
}

/** Screenshots for the user guide, only when asked for (SAMVERKA_TEST_SCREENSHOTS=1). */
export async function screenshot(page, name) {
  if (process.env.SAMVERKA_TEST_SCREENSHOTS !== "1") return;
  const dir = join(repo, "docs", "screenshots");
  mkdirSync(dir, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(dir, `${name}.jpg`), type: "jpeg", quality: 70, fullPage: false });
}

/** A valid personnummer (Luhn) for a made-up person born on `date` (YYYYMMDD). */
export function personnummer(date, serial) {
  const nine = date.slice(2) + String(serial).padStart(3, "0");
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    let d = Number(nine[i]) * (i % 2 === 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  const check = (10 - (sum % 10)) % 10;
  return `${date}-${nine.slice(6)}${check}`;
}

/** The username of the demo account that works as `work` ("Vårdsamordnare – …"). */
export function usernameFor(accounts, work) {
  const found = accounts.find((a) => a.work === work);
  assert.ok(found, `a demo account works as ${work}`);
  return found.username;
}

/** Fails with every WCAG 2.1 AA violation axe-core finds on the page, and where. */
export async function assertAccessible(page, what) {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 1)}`);
}

/**
 * Waits until a page kept up to date by its live updates shows what the same page fetched
 * now shows (as the live refetch fetches it: nothing marked opened), in its main part, the
 * tab title and the menu's count: whatever a change altered was updated where it is shown.
 */
export async function assertCurrent(page, what, timeout = 5000) {
  const compare = () =>
    page.evaluate(async () => {
      const text = (root) => (root ? root.textContent.replace(/\s+/g, " ").trim() : "");
      const seen = (doc) => [doc.title, text(doc.querySelector('header.top nav a[href="/"]')), text(doc.querySelector("main"))];
      const res = await fetch(location.href, { credentials: "same-origin", headers: { "X-Samverka-Live": "1" } });
      const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
      return { live: seen(document), fresh: seen(fresh) };
    });
  const until = Date.now() + timeout;
  let last;
  do {
    last = await compare();
    if (JSON.stringify(last.live) === JSON.stringify(last.fresh)) return;
    await page.waitForTimeout(200);
  } while (Date.now() < until);
  assert.deepEqual(last.live, last.fresh, `${what}: the open page is not what the page now says`);
}

/** Fails when the page shows an error, with its text. */
export async function assertNoError(page, what) {
  const errors = await page.locator(".alert.error").count();
  assert.equal(errors, 0, `${what}: ${errors ? await page.locator(".alert.error").innerText() : ""}`);
}

/**
 * A demo server with `patients` patients and a browser for the tests of one file, started
 * before them and stopped after. `logIn(work)` logs in as the demo account that works as
 * `work` ("Enhetschef – Biståndsenheten Solna") in a browser context of its own.
 */
export function demoSession({ patients, oidc = false }) {
  const demo = {};
  before(async () => {
    if (oidc) demo.provider = await startOidcProvider();
    demo.server = await startServer({ patients, oidcIssuer: demo.provider?.issuer });
    demo.base = demo.server.base;
    demo.browser = await startBrowser();
    demo.accounts = await demoAccounts(demo.browser, demo.base);
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.stop();
    demo.provider?.stop();
  });
  demo.logIn = (work, options) => login(demo.browser, demo.base, usernameFor(demo.accounts, work), options);
  return demo;
}
