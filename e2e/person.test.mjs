// The person's own pages on a phone: a demo patient signs in, follows their discharge and
// sees who has read about them, at 320 px wide, in Swedish and English. axe-core checks every
// page for WCAG 2.1 AA, and nothing may need sideways scrolling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { demoSession, assertAccessible, screenshot } from "./harness.mjs";

const demo = demoSession({ patients: 8 });

/** Fails when the page is wider than the phone, or a button or link is too small to hit. */
async function assertFitsPhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 320, `${what}: ${width} px wide`);
  const small = await page.$$eval("main button, main a.button", (els) =>
    els.filter((e) => e.getBoundingClientRect().height < 44).map((e) => e.textContent.trim()),
  );
  assert.deepEqual(small, [], `${what}: targets lower than 44 px`);
}

test("a person follows their own discharge on a phone, WCAG 2.1 AA", async () => {
  const context = await demo.browser.newContext({ locale: "sv-SE", viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${demo.base}/min`);
  await assertAccessible(page, "sign-in");
  await assertFitsPhone(page, "sign-in");
  // The demo lists its patients; sign in as the first.
  const first = page.locator("form[action='/min/demo'] button").first();
  const name = (await first.innerText()).trim();
  await first.click();
  await page.waitForURL(`${demo.base}/min`);
  await page.getByRole("heading", { name: "Min utskrivning" }).waitFor();
  assert.ok((await page.locator("header").innerText()).includes(name), "signed in as the one chosen");
  await assertAccessible(page, "start");
  await assertFitsPhone(page, "start");

  const stays = page.locator("ul.cases a");
  assert.ok((await stays.count()) >= 1, "the person has a stay");
  await stays.first().click();
  await page.waitForURL(/\/min\/utskrivning\/[0-9a-f-]{36}$/);
  await page.getByRole("heading", { name: "Just nu" }).waitFor();
  await page.getByRole("heading", { name: "Hit kan du ringa" }).waitFor();
  await assertAccessible(page, "my discharge");
  await assertFitsPhone(page, "my discharge");
  await screenshot(page, "min-utskrivning");

  await page.getByRole("link", { name: "Se vem som har läst om dig" }).click();
  await page.getByRole("heading", { name: "Vem har läst om dig" }).waitFor();
  await assertAccessible(page, "who has read");
  await assertFitsPhone(page, "who has read");

  // In English, the same pages.
  await context.addCookies([{ name: "samverka-lang", value: "en", url: demo.base }]);
  await page.goto(`${demo.base}/min`);
  await page.getByRole("heading", { name: "My discharge" }).waitFor();
  await assertAccessible(page, "start (English)");

  // Signing out leaves the person's pages.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await context.close();
});
