// A directive through validation to read confirmations, by three people of one municipality:
// the enhetschef registers it, MAS validates and publishes it, a biståndshandläggare of the
// audience sees it counted in the menu and confirms reading it; the enhetschef sees who has
// read it and who has not. axe-core checks every directive page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { demoSession, screenshot, assertAccessible, assertNoError } from "./harness.mjs";

const demo = demoSession({ patients: 5 });

test("a directive through validation to read confirmations, WCAG 2.1 AA", async () => {
  const TITLE = "Handhygien vid hembesök";
  const chief = await demo.logIn("Enhetschef – Biståndsenheten Solna");
  const mas = await demo.logIn("MAS – Kommunal hälso- och sjukvård Solna");
  const reader = await demo.logIn("Biståndshandläggare – Biståndsenheten Solna");

  // The enhetschef registers the directive for the biståndsenhet's people.
  const c = chief.page;
  await c.getByRole("link", { name: "Direktiv" }).click();
  await assertAccessible(c, "directives (registrar)");
  await c.getByLabel("Ämne").fill("Handhygien");
  await c.getByLabel("Rubrik").fill(TITLE);
  await c.getByLabel("Utfärdare", { exact: true }).selectOption({ label: "Vårdhygien" });
  await c.getByLabel("Utfärdarens namn").fill("Vårdhygien Region Demo");
  await c.getByLabel("Utfärdarens beteckning eller version").fill("VH 2026:7");
  await c.getByLabel("Direktivet").fill("Handsprit före och efter varje hembesök.");
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Stockholm" });
  await c.getByLabel("Gäller från").fill(today);
  await c.getByLabel("Solna kommun", { exact: true }).check();
  await c.getByLabel("Biståndsenhet", { exact: true }).check();
  await c.getByRole("button", { name: "Registrera och skicka till validering" }).click();
  await c.waitForURL(/\/direktiv\/[0-9a-f-]{36}$/);
  await assertNoError(c, "registering");
  const url = c.url();
  await assertAccessible(c, "directive waiting for validation");
  assert.equal(await c.getByRole("button", { name: "Publicera" }).count(), 0, "not by the one who registered it");

  // Nobody in the audience sees it before validation.
  const r = reader.page;
  await r.goto(url);
  assert.match(await r.locator("main").innerText(), /finns inte/);
  const unread = async () => {
    const count = r.locator("header.top a[href='/direktiv'] .count");
    return (await count.count()) ? Number((await count.innerText()).split(/\s/)[0]) : 0;
  };
  await r.goto(`${demo.base}/`);
  const before = await unread();

  // MAS validates and publishes.
  const m = mas.page;
  await m.getByRole("link", { name: "Direktiv" }).click();
  await m.getByRole("link", { name: TITLE }).first().click();
  await assertAccessible(m, "directive to validate");
  await m.getByRole("button", { name: "Publicera" }).click();
  await assertNoError(m, "publishing");
  await m.locator(".badge", { hasText: "Gäller" }).first().waitFor();

  // The reader sees it counted in the menu, reads it and confirms.
  await r.goto(`${demo.base}/`);
  assert.equal(await unread(), before + 1, "the new directive is counted in the menu");
  await r.getByRole("link", { name: /^Direktiv/ }).click();
  await assertAccessible(r, "directives (reader)");
  await screenshot(r, "direktiv");
  await r.getByRole("link", { name: TITLE }).click();
  await assertAccessible(r, "directive (reader)");
  await r.getByRole("button", { name: "Jag har läst direktivet" }).click();
  await assertNoError(r, "confirming");
  await r.getByText("Du bekräftade att du läst direktivet").waitFor();

  // The enhetschef sees who has read it and who has not.
  await c.goto(url);
  const reading = c.locator("section", { has: c.getByRole("heading", { name: "Läsning" }) });
  assert.match(await reading.innerText(), /1 \/ 2/);
  assert.match(await reading.innerText(), /Har inte läst/);
  await assertAccessible(c, "directive with read figures");
});
