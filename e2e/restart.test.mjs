// A server that restarts (an upgrade, or the process moving behind a load balancer) ends the
// open pages' live streams; the browser reconnects by itself, and the page then fetches itself
// again, so that what changed while it was away shows without a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, demoAccounts, login, usernameFor } from "./harness.mjs";

let server, browser, accounts;

before(async () => {
  server = await startServer({ patients: 30 });
  browser = await startBrowser();
  accounts = await demoAccounts(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens the ward's cases until one offers a free message; returns its id and the page's CSRF token. */
async function caseToWriteIn(page) {
  const links = await page.$$eval('a[href^="/arenden/"]', (as) => [...new Set(as.map((a) => a.getAttribute("href")))]);
  for (const href of links) {
    await page.goto(`${server.base}${href}`);
    if ((await page.locator("form:has(input[name=kind][value=allmant])").count()) > 0) {
      return { caseId: href.split("/").pop(), csrf: await page.locator("input[name=csrf_token]").first().inputValue() };
    }
  }
  assert.fail("the ward has a case to write in");
}

/** Writes a free message in the case through the JSON API from `page`; returns the status. */
function writeFreeMessage(page, { caseId, csrf }, text) {
  return page.evaluate(
    async ({ caseId, csrf, text }) => {
      const res = await fetch(`/api/cases/${caseId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ body: { kind: "allmant", text } }),
      });
      return res.status;
    },
    { caseId, csrf, text },
  );
}

test("after a restart the open page reconnects and shows what changed meanwhile", async () => {
  const ward = await login(browser, server.base, usernameFor(accounts, "Vårdsamordnare – Norrviks sjukhus, Geriatrik avd 21"));
  const page = ward.page;
  const target = await caseToWriteIn(page);
  // The page listens before the restart.
  const listening = page.waitForRequest((r) => r.url().endsWith("/handelser"));
  await page.reload();
  await listening;

  await server.restart();
  // Written at once, before the browser reconnects (it waits seconds before trying again): the
  // new process has no stream to tell, so only the page's own look after reconnecting shows it.
  const text = `Skrivet medan sidan var bortkopplad ${Date.now()}`;
  const other = await ward.context.newPage();
  await other.goto(`${server.base}/api/live`);
  assert.equal(await writeFreeMessage(other, target, text), 201);
  await assert.doesNotReject(page.getByText(text).waitFor({ timeout: 15000 }), "the page fetched itself again");
  await ward.context.close();
});

test("a page whose first live stream failed looks again once the stream is up", async () => {
  // Another ward's coordinator: the first test used that account's current code, and a code
  // is accepted once.
  const other = accounts.find((a) => a.work.startsWith("Vårdsamordnare – ") && !a.work.endsWith("avd 21"));
  assert.ok(other, "a second ward's coordinator");
  const ward = await login(browser, server.base, other.username);
  const page = ward.page;
  const target = await caseToWriteIn(page);
  // The page's first attempt at the stream fails (as when the server is restarting just then);
  // the browser tries again by itself a few seconds later.
  let refused = 0;
  await page.route("**/handelser", (route) => (refused++ === 0 ? route.abort("connectionrefused") : route.continue()));
  await page.reload();
  const text = `Skrivet innan strömmen kom upp ${Date.now()}`;
  assert.equal(await writeFreeMessage(page, target, text), 201);
  await assert.doesNotReject(page.getByText(text).waitFor({ timeout: 15000 }), "the page looked again once the stream was up");
  assert.ok(refused >= 2, "the stream was refused once and then let through");
  await ward.context.close();
});
