// A SIP outside discharge: the vårdcentral's nurse starts a coordination at home for a person
// Samverka did not know, records the person's consent, invites the municipality's
// biståndshandläggare and its nurse, and calls them to the SIP meeting; both acknowledge and
// the vårdcentral sees their receipts arrive without reloading. Then the joint round: the
// physician puts the person on the round and writes its note; at the next round the
// municipality's MAS finds it with the action still open, and the vårdcentral marks its action
// done. axe-core on every new page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, startBrowser, demoAccounts, login, personnummer, usernameFor, assertAccessible, assertNoError } from "./harness.mjs";

let server, browser, accounts;

before(async () => {
  server = await startServer({ patients: 10 });
  browser = await startBrowser();
  accounts = await demoAccounts(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const LIVE = { timeout: 5000 };

function receiptRow(article, unit) {
  return article.locator("table.receipts tbody tr", { has: article.page().locator("th", { hasText: unit }) });
}

const VC = "Vårdcentralen Solna Södra";
const BISTAND = "Biståndsenheten Solna";
const HSL = "Kommunal hälso- och sjukvård Solna";
// The coordination the first test starts, which the round takes up.
let caseUrl;

test("a vårdcentral starts a coordination at home and the municipality takes part", async () => {
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
  caseUrl = v.url();
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

test("a round lists the person and its note reaches the next round", async () => {
  assert.ok(caseUrl, "the coordination of the test before");
  const caseId = caseUrl.split("/").pop();
  const day = (offset) => new Date(Date.now() + offset * 86400e3).toLocaleDateString("sv-SE", { timeZone: "Europe/Stockholm" });

  // The biståndsenhet's enhetschef runs Solna's joint round: a round today, and the next one.
  const chief = await login(browser, server.base, usernameFor(accounts, `Enhetschef – ${BISTAND}`));
  const c = chief.page;
  await c.getByRole("link", { name: "Forum", exact: true }).click();
  await c.getByRole("link", { name: "Gemensam rond Solna" }).click();
  const plan = async (date, time) => {
    await c.locator("summary", { hasText: "Planera ett extra möte" }).click();
    await c.getByLabel("Datum").fill(date);
    await c.getByLabel("Klockan", { exact: true }).last().fill(time);
    await c.getByRole("button", { name: "Planera mötet" }).click();
    await c.waitForURL(/\/moten\/[0-9a-f-]{36}$/);
    await assertNoError(c, "planning a round");
    const url = c.url();
    await c.goBack();
    await c.waitForURL(/\/forum\//);
    return url;
  };
  const today = await plan(day(0), "00:00");
  const next = await plan(day(8), "10:30");
  await chief.context.close();

  // The vårdcentral's physician opens today's round and puts the person on it. (Each person
  // logs in once in this file: a one-time code is not taken twice.)
  const vc = await login(browser, server.base, usernameFor(accounts, `Läkare – ${VC}`));
  const v = vc.page;
  await v.goto(today);
  await v.getByRole("link", { name: "Rondens personer" }).click();
  await v.waitForURL(/\/rond$/);
  await assertAccessible(v, "joint round");
  await v.locator("#lista ~ form").getByLabel("Person").selectOption(caseId);
  await v.getByRole("button", { name: "Sätt upp på ronden" }).click();
  await assertNoError(v, "putting the person on the round");
  const person = v.locator(`#person-${caseId}`);
  await person.waitFor();
  assert.match(await person.innerText(), /Karin Hemsson[\s\S]*Uppsatt på ronden/);

  // The round's note: what changed, what each profession does, the next review and an action
  // for the vårdcentral.
  await person.getByLabel("Vad har ändrats").fill("Har fallit igen; sover dåligt.");
  await person.getByLabel("Läkare").fill("Ser över sömnmedicinen.");
  await person.getByLabel("Hemtjänst").fill("Tillsyn klockan 22.");
  await person.getByLabel("Nästa genomgång").fill(day(8));
  await person.getByLabel("Åtgärd", { exact: true }).fill("Ring dottern om sömnen");
  await person.getByLabel("Ansvarig enhet").selectOption({ label: VC });
  await person.getByLabel("Ansvarig person eller funktion").fill("Distriktssköterskan");
  await person.getByLabel("Klar senast").fill(day(5));
  await person.getByRole("button", { name: /Spara anteckningen/ }).click();
  await assertNoError(v, "saving the round's note");
  await v.locator(`#person-${caseId}`).getByText("Denna rond").waitFor();
  await assertAccessible(v, "joint round with a note");

  // At the next round the municipality's MAS finds what the round before said, and the action.
  const mas = await login(browser, server.base, usernameFor(accounts, `MAS – ${HSL}`));
  await mas.page.goto(`${next}/rond`);
  await assertAccessible(mas.page, "the next round");
  const there = mas.page.locator(`#person-${caseId}`);
  const text = await there.innerText();
  assert.match(text, /Förra ronden[\s\S]*Har fallit igen; sover dåligt\.[\s\S]*Ser över sömnmedicinen\./);
  assert.match(text, /Ring dottern om sömnen/);
  // Not the municipality's action to close.
  assert.equal(await there.getByRole("button", { name: /Markera som klar/ }).count(), 0);
  await mas.context.close();

  // The vårdcentral, which owns it, marks it done at the next round.
  await v.goto(`${next}/rond`);
  await v.locator(`#person-${caseId}`).getByRole("button", { name: /Markera som klar/ }).click();
  await assertNoError(v, "marking the action done");
  assert.match(await v.locator(`#person-${caseId}`).innerText(), /Inga öppna åtgärder/);
  await vc.context.close();
});
