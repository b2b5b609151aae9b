// A SIP outside discharge: the vårdcentral's nurse starts a coordination at home for a person
// Samverka did not know, records the person's consent, invites the municipality's
// biståndshandläggare and its nurse, and calls them to the SIP meeting; both acknowledge and
// the vårdcentral sees their receipts arrive without reloading. axe-core on every new page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, demoAccounts, login, personnummer, usernameFor, assertAccessible } from "./harness.mjs";

let server, browser, accounts;

before(async () => {
  server = await startServer({ patients: 10 });
  browser = await startBrowser();
  accounts = await demoAccounts(browser, server.base);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const LIVE = { timeout: 5000 };

function receiptRow(article, unit) {
  return article.locator("table.receipts tbody tr", { has: article.page().locator("th", { hasText: unit }) });
}

test("a vårdcentral starts a coordination at home and the municipality takes part", async () => {
  const VC = "Vårdcentralen Solna Södra";
  const BISTAND = "Biståndsenheten Solna";
  const HSL = "Kommunal hälso- och sjukvård Solna";
  const vc = await login(browser, server.base, usernameFor(accounts, `Sjuksköterska – ${VC}`));
  const v = vc.page;

  // Started from the menu, for a person Samverka does not know yet.
  await v.getByRole("link", { name: "Ny samordning i hemmet" }).click();
  await assertAccessible(v, "new coordination at home");
  const pnr = personnummer("19350303", 900 + Math.floor(Math.random() * 99));
  await v.getByLabel("Personnummer, samordningsnummer eller reservnummer").fill(pnr);
  await v.getByLabel("Förnamn").fill("Karin");
  await v.getByLabel("Efternamn").fill("Hemsson");
  await v.getByLabel("Folkbokföringskommun").selectOption({ label: "Solna kommun (0184)" });
  await v.getByLabel("Listad på vårdcentral").selectOption({ label: VC });
  await v.getByLabel("Varför behövs en samordnad plan nu?").fill("Fallit två gånger; hemtjänst och hemsjukvård behöver samordnas.");
  await v.getByRole("button", { name: "Starta samordningen" }).click();
  await v.waitForURL(/\/arenden\/[0-9a-f-]{36}$/);
  const caseUrl = v.url();
  assert.match(await v.locator("#lage").innerText(), /Samordning påbörjad[\s\S]*Fallit två gånger/);
  await assertAccessible(v, "coordination at home, started");

  // The person's consent to sharing, to the call and to the plan, in one go.
  const consentForm = v.locator("form[action$='/samtycke']");
  const details = v.locator("details", { has: consentForm });
  if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
  for (const kind of ["Att dela information med andra enheter", "Att kallas till SIP", "Att en SIP upprättas"]) {
    await consentForm.getByLabel(kind).check();
  }
  await consentForm.getByRole("button", { name: "Registrera samtycke" }).click();
  await v.waitForLoadState("load");

  // Invites the biståndsenhet and the municipality's nurses.
  for (const unit of [BISTAND, HSL]) {
    await v.goto(`${caseUrl}/bjud-in`);
    await assertAccessible(v, "invite to a coordination at home");
    await v.getByLabel("Enhet").selectOption({ label: unit });
    await v.getByLabel("Skäl").fill("Deltar i planeringen hemma");
    await v.getByRole("button", { name: "Bjud in" }).click();
    await v.waitForURL(caseUrl);
  }

  // Calls both to the SIP meeting at the person's home.
  const call = v.locator("form:has(input[name=kind][value=kallelse_sip])");
  const callDetails = v.locator("details", { has: call });
  if (!(await callDetails.evaluate((d) => d.open))) await callDetails.locator("summary").click();
  const meeting = new Date(Date.now() + 3 * 86400e3).toISOString().slice(0, 10) + "T13:00";
  await call.getByLabel("Mötestid").fill(meeting);
  await call.getByLabel("Plats").fill("Hemma hos Karin");
  await call.getByRole("button", { name: "Skicka" }).click();
  await v.waitForLoadState("load");
  assert.match(await v.locator("#lage").innerText(), /Kallad till SIP/);
  const sent = v.locator("article.message", { has: v.locator("h3", { hasText: "Kallelse till SIP" }) }).first();

  // The biståndshandläggare and the municipality's nurse find it in their inboxes and acknowledge.
  for (const [work, unit] of [
    [`Biståndshandläggare – ${BISTAND}`, BISTAND],
    [`Sjuksköterska – ${HSL}`, HSL],
  ]) {
    const other = await login(browser, server.base, usernameFor(accounts, work));
    const o = other.page;
    await o.locator("#messages a", { hasText: "Kallelse till SIP" }).first().click();
    await o.waitForURL(/\/arenden\//);
    assert.equal(o.url().split("#")[0], caseUrl);
    await assertAccessible(o, `coordination at home (${unit})`);
    const theirs = o.locator("article.message", { has: o.locator("h3", { hasText: "Kallelse till SIP" }) }).first();
    await theirs.getByRole("button", { name: "Kvittera" }).click();
    await receiptRow(sent, unit).locator(".badge", { hasText: /^\s*Kvitterat\s*$/ }).waitFor(LIVE);
    await other.context.close();
  }
  // The hospital's steps are nowhere offered here.
  assert.equal(await v.locator("form:has(input[name=kind][value=inskrivningsmeddelande])").count(), 0);
});
