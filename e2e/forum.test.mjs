// A forum meeting from a raised item to approved minutes with an action item, by two people
// in two organisations: the ward's vårdsamordnare raises an item and later reports on the
// action; Solna's enhetschef, who runs the Friday status meeting, builds the agenda, writes
// the minutes, records attendance and approves. axe-core checks every forum page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { demoSession, screenshot, assertAccessible, assertNoError } from "./harness.mjs";

const demo = demoSession({ patients: 10 });

test("a meeting from raised items to minutes with actions, WCAG 2.1 AA", async () => {
  const FORUM = "Fredagsavstämning Solna";
  const ITEM = "Larm som inte följer med hem";
  const ward = await demo.logIn("Vårdsamordnare – Norrviks sjukhus, Geriatrik avd 21");
  const chief = await demo.logIn("Enhetschef – Biståndsenheten Solna");

  // The ward raises an item with the template.
  const w = ward.page;
  await w.getByRole("link", { name: "Forum", exact: true }).click();
  await assertAccessible(w, "forum list (member)");
  await w.getByRole("link", { name: FORUM }).click();
  await assertAccessible(w, "forum page (member)");
  // A member does not run the forum.
  assert.equal(await w.getByRole("button", { name: "Pausa" }).count(), 0);
  // Without saying what is asked, an item to work on is refused and nothing typed is lost.
  await w.getByLabel("Vad gäller det").fill(ITEM);
  await w.getByLabel("Varför").fill("Trygghetslarmet kopplas inte in före hemgång på fredagar.");
  await w.getByRole("button", { name: "Lyft punkten" }).click();
  await w.locator(".alert.error").waitFor();
  assert.match(await w.locator(".alert.error").innerText(), /bra att veta/);
  assert.equal(await w.getByLabel("Vad gäller det").inputValue(), ITEM);
  await assertAccessible(w, "forum page with an error");
  await w.getByLabel("Vad forumet ombeds göra").fill("Beslut om vem som beställer larmet.");
  await w.getByRole("button", { name: "Lyft punkten" }).click();
  await assertNoError(w, "raising an item");
  await w.locator("article.message h3", { hasText: ITEM }).waitFor();

  // The enhetschef plans a meeting for today and builds its agenda from the raised items.
  const c = chief.page;
  await c.goto(`${demo.base}/forum`);
  await c.getByRole("link", { name: FORUM }).click();
  await assertAccessible(c, "forum page (leader)");
  await screenshot(c, "forum");
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Stockholm" });
  await c.locator("summary", { hasText: "Planera ett extra möte" }).click();
  await c.getByLabel("Datum").fill(today);
  await c.getByLabel("Klockan", { exact: true }).last().fill("00:00");
  await c.getByRole("button", { name: "Planera mötet" }).click();
  await c.waitForURL(/\/moten\/[0-9a-f-]{36}$/);
  await assertNoError(c, "planning a meeting");
  const meetingUrl = c.url();
  await c.getByRole("button", { name: `Sätt på dagordningen ${ITEM}` }).click();
  await assertNoError(c, "building the agenda");
  await c.locator("#dagordning ~ ol h3", { hasText: ITEM }).waitFor();
  await assertAccessible(c, "meeting page (leader)");

  // Minutes with a decision, attendance and an action item for the ward; then approval.
  await c.getByLabel("Beslut").first().fill("Avdelningen beställer larmet senast dagen före hemgång.");
  await c.getByLabel("Övrigt").fill("Alla utförare var med.");
  await c.getByRole("button", { name: "Spara minnesanteckningarna" }).click();
  await assertNoError(c, "writing minutes");
  await c.getByLabel("Norrviks sjukhus, Geriatrik avd 21").fill("2");
  await c.getByLabel("Biståndsenheten Solna").fill("3");
  await c.getByRole("button", { name: "Spara närvaron" }).click();
  await assertNoError(c, "recording attendance");
  await c.locator("summary", { hasText: "Ny åtgärd" }).click();
  await c.getByLabel("Åtgärd", { exact: true }).fill("Skriv rutin för trygghetslarm vid utskrivning");
  await c.getByLabel("Ansvarig enhet").selectOption({ label: "Norrviks sjukhus, Geriatrik avd 21" });
  await c.getByLabel("Ansvarig person eller funktion").fill("Vårdsamordnaren");
  const due = new Date(Date.now() + 14 * 86400e3).toLocaleDateString("sv-SE", { timeZone: "Europe/Stockholm" });
  await c.getByLabel("Klar senast").fill(due);
  await c.getByLabel("Hör till punkt").selectOption({ label: ITEM });
  await c.getByRole("button", { name: "Lägg till åtgärden" }).click();
  await assertNoError(c, "adding an action");
  await screenshot(c, "mote");
  await assertAccessible(c, "meeting page with minutes");
  await c.getByRole("button", { name: "Fastställ minnesanteckningarna" }).click();
  await assertNoError(c, "approving");
  await c.locator(".badge", { hasText: "Fastställt" }).waitFor();
  assert.equal(await c.getByRole("button", { name: "Spara minnesanteckningarna" }).count(), 0, "approved minutes are fixed");
  await c.getByRole("link", { name: "Minnesanteckningar som dokument" }).click();
  assert.match(await c.locator("main").innerText(), /Avdelningen beställer larmet senast dagen före hemgång\./);
  await assertAccessible(c, "minutes document");

  // The ward sees the decision and its action, and reports progress.
  await w.goto(meetingUrl);
  assert.match(await w.locator("main").innerText(), /Avdelningen beställer larmet/);
  await w.goto(`${demo.base}/forum`);
  await w.getByRole("link", { name: FORUM }).click();
  const row = w.locator("#atgarder ~ table tr", { hasText: "Skriv rutin för trygghetslarm" });
  await row.getByLabel("Status: Skriv rutin för trygghetslarm vid utskrivning").selectOption("started");
  await row.getByRole("button", { name: "Spara" }).click();
  await assertNoError(w, "reporting on an action");
  const again = w.locator("#atgarder ~ table tr", { hasText: "Skriv rutin för trygghetslarm" });
  assert.equal(await again.locator("select").inputValue(), "started");
  // The attendance figures now count today's meeting.
  assert.match(await w.locator("#narvaro ~ p").first().innerText(), /(^|\D)3 hållna möten/);
});
