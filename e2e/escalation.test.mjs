// An unacknowledged notice escalating over the demo's simulated clock. Solna's enhetschef
// sets the biståndsenhet's escalation rule and confirms its contacts; the ward sends an
// admission notice nobody at the biståndsenhet acknowledges; an hour later (the demo clock
// moved on) the municipality's MAS, the backup, has it and sees the escalation on the case;
// an hour after that the leader's vårdcentral is alerted. axe-core checks every page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { demoSession, screenshot, assertAccessible, assertNoError, personnummer } from "./harness.mjs";

const demo = demoSession({ patients: 5 });

test("an unacknowledged notice escalates to the backup, then alerts the leader, WCAG 2.1 AA", async () => {
  const WARD = "Norrviks sjukhus, Geriatrik avd 21";
  const BISTAND = "Biståndsenheten Solna";
  const BACKUP = "Kommunal hälso- och sjukvård Solna";
  const LEADER = "Vårdcentralen Solna Centrum";
  const chief = await demo.logIn(`Enhetschef – ${BISTAND}`);
  const ward = await demo.logIn(`Vårdsamordnare – ${WARD}`);
  const mas = await demo.logIn(`MAS – ${BACKUP}`);
  const leader = await demo.logIn(`Sjuksköterska – ${LEADER}`);

  // The enhetschef keeps the unit's entry: contacts, confirmation, escalation rule.
  const c = chief.page;
  await c.getByRole("link", { name: "Enheter" }).click();
  await c.getByRole("link", { name: BISTAND, exact: true }).click();
  await assertAccessible(c, "unit page (leader)");
  await c.getByLabel("Namn 1", { exact: true }).fill("Helgjouren");
  await c.getByLabel("Funktion 1", { exact: true }).fill("Biståndshandläggare helg");
  await c.getByLabel("Telefon 1", { exact: true }).fill("08-555 123 00");
  await c.getByRole("button", { name: "Spara och bekräfta" }).click();
  await assertNoError(c, "saving contacts");
  assert.equal(await c.locator(".alert.warning", { hasText: "inte bekräftade" }).count(), 0, "confirmed, no reminder");
  await c.getByLabel("Till ersättande enhet efter (timmar)").fill("1");
  await c.getByLabel("Ersättande enhet (samma organisation)").selectOption({ label: BACKUP });
  await c.getByLabel("Larma ledare efter (timmar)").fill("2");
  await c.getByLabel("Ledarens enhet").selectOption({ label: LEADER });
  await c.getByRole("button", { name: "Spara eskaleringsregeln" }).click();
  await assertNoError(c, "saving the rule");
  await c.getByText(`Efter 1 tim utan kvittens får ${BACKUP} meddelandet.`).waitFor();
  await screenshot(c, "enhet");

  // The ward registers an admission and sends the notice.
  const w = ward.page;
  await w.getByRole("link", { name: "Ny inskrivning" }).click();
  await w.getByLabel("Personnummer, samordningsnummer eller reservnummer").fill(personnummer("19330303", 800 + Math.floor(Math.random() * 99)));
  await w.getByLabel("Förnamn").fill("Elsa");
  await w.getByLabel("Efternamn").fill("Eskalera");
  await w.getByLabel("Folkbokföringskommun").selectOption({ label: "Solna kommun (0184)" });
  await w.getByLabel("Listad på vårdcentral").selectOption({ label: "Vårdcentralen Solna Södra" });
  await w.getByRole("button", { name: "Registrera inskrivningen" }).click();
  await w.waitForURL(/\/arenden\/[0-9a-f-]{36}$/);
  const caseUrl = w.url();
  const form = w.locator("form:has(input[name=kind][value=inskrivningsmeddelande])");
  const details = w.locator("details", { has: form });
  if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
  await form.getByLabel("Beräknat utskrivningsdatum").fill(new Date(Date.now() + 5 * 86400e3).toISOString().slice(0, 10));
  await form.getByRole("button", { name: "Skicka" }).click();
  await assertNoError(w, "sending the notice");

  // The backup has nothing yet; an hour later (the demo clock moves on) it has the message.
  const m = mas.page;
  assert.equal((await m.request.get(caseUrl)).status(), 403, "not the backup's case before the escalation");
  await w.getByRole("button", { name: "Demo: spola fram en timme" }).click();
  await m.goto(`${demo.base}/eskaleringar`);
  await assertAccessible(m, "escalations (backup)");
  const row = m.locator("tbody tr", { hasText: BISTAND });
  await row.getByText("Väntar").waitFor();
  await screenshot(m, "eskaleringar");
  await row.getByRole("link", { name: "Öppna ärendet" }).click();
  assert.equal(m.url(), caseUrl);
  assert.match(await m.locator("main").innerText(), new RegExp(`vidare till ${BACKUP} enligt eskaleringsregeln`));
  await assertAccessible(m, "case page with an escalation");

  // Another hour: the leader's vårdcentral is alerted, told but not given the case.
  await w.getByRole("button", { name: "Demo: spola fram en timme" }).click();
  const l = leader.page;
  await l.getByRole("link", { name: "Eskaleringar" }).click();
  const alert = l.locator("tbody tr", { hasText: BISTAND });
  await alert.getByText("Ni larmas som ledare").waitFor();
  assert.equal(await alert.getByRole("link", { name: "Öppna ärendet" }).count(), 0);
  await assertAccessible(l, "escalations (leader)");
  await w.goto(caseUrl);
  assert.match(await w.locator("main").innerText(), new RegExp(`larmade ${LEADER} enligt eskaleringsregeln`));
});
