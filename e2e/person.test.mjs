// The person's own pages on a phone: a demo patient signs in, follows their discharge and
// sees who has read about them, at 320 px wide, in Swedish and English. axe-core checks every
// page for WCAG 2.1 AA, and nothing may need sideways scrolling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { demoSession, assertAccessible, screenshot, login } from "./harness.mjs";

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

  // The person's own words reach the staff of the case at once: the ward's coordinator has
  // the case open, and what the person writes appears there without a reload.
  const caseUrl = page.url();
  const caseId = caseUrl.split("/").pop();
  const ward = (await page.locator("ul.contacts li strong").first().innerText()).trim();
  const account = demo.accounts.find((a) => a.work.endsWith(`– ${ward}`));
  assert.ok(account, `a demo account works at ${ward}`);
  const staff = await login(demo.browser, demo.base, account.username);
  await staff.page.goto(`${demo.base}/arenden/${caseId}`);
  await staff.page.getByRole("heading", { name: "Patientens egna ord" }).waitFor();
  await page.getByLabel("Det här är viktigt för mig").fill("Att få bo kvar hemma med katten.");
  await page.getByLabel("Mina mål och önskemål").fill("Gå till affären själv.");
  const sent = Date.now();
  await page.getByRole("button", { name: "Skicka", exact: true }).click();
  await page.getByText("Tack! Vi har fått det du skrev.").waitFor();
  await staff.page.getByText("Att få bo kvar hemma med katten.").waitFor({ timeout: 10000 });
  console.log(`live: the person's words on the coordinator's open page after ${Date.now() - sent} ms`);
  await assertAccessible(staff.page, "case page with the person's words");
  // The coordinator marks it read; the person sees by whom.
  await staff.page.getByRole("button", { name: "Markera som läst" }).first().click();
  await staff.page.getByText("Läst av").first().waitFor();
  await page.reload();
  await page.getByText(`Läst av ${ward}`).first().waitFor();
  await assertAccessible(page, "my discharge with what I wrote");
  await staff.context.close();

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
