// One patient through all eight LUS steps by three people in three organisations, each in
// their own browser: the ward's vårdsamordnare (Region Demo), Solna's biståndshandläggare
// (Solna kommun) and the sjuksköterska of a vårdcentral run by a private provider
// (Vårdbolaget Demo AB). Each sees the others' receipts and messages arrive without reloading.
// axe-core checks every page on the way, and the administration and log-review pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  startBrowser,
  demoAccounts,
  login,
  screenshot,
  personnummer,
  usernameFor,
  assertAccessible,
  assertCurrent,
} from "./harness.mjs";

let server, browser, accounts;
const checked = [];

before(async () => {
  server = await startServer({ patients: 30 });
  browser = await startBrowser();
  accounts = await demoAccounts(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const account = (work) => usernameFor(accounts, work);

/** Checks the page with axe-core, and remembers that it did. */
async function accessible(page, what) {
  checked.push(what);
  await assertAccessible(page, what);
}

/** Reflows without sideways scrolling at a phone's width (and so at 400 % of 1280 px). */
async function reflows(page, what) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 800 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize(size);
  assert.ok(wide <= 321, `${what} is ${wide} px wide at 320 px`);
}

/** The form on a case page that sends the given kind of message. */
function messageForm(page, kind) {
  return page.locator(`form:has(input[name=kind][value=${kind}])`);
}

async function openDetails(page, form) {
  const details = page.locator("details", { has: form });
  if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
}

async function send(page, kind, fill = async () => {}) {
  const form = messageForm(page, kind);
  await openDetails(page, form);
  await fill(form);
  await form.getByRole("button", { name: "Skicka" }).click();
  await page.waitForLoadState("load");
  const error = await page.locator(".alert.error").count();
  assert.equal(error, 0, `sending ${kind}: ${error ? await page.locator(".alert.error").innerText() : ""}`);
}

/** The article of the newest message of a kind on a case page. */
function message(page, title) {
  return page.locator("article.message", { has: page.locator("h3", { hasText: title }) }).first();
}

function receiptRow(article, unit) {
  return article.locator("table.receipts tbody tr", { has: article.page().locator("th", { hasText: unit }) });
}

const LIVE = { timeout: 5000 };
// The receipt's badge once acknowledged (a plain text match would also take "Inte kvitterat").
const ACKNOWLEDGED = /^\s*Kvitterat\s*$/;

test("a discharge through all eight steps, three organisations, live receipts, WCAG 2.1 AA", async () => {
  const WARD = "Norrviks sjukhus, Geriatrik avd 21";
  const BISTAND = "Biståndsenheten Solna";
  const VC = "Vårdcentralen Solna Södra";
  const ward = await login(browser, server.base, account(`Vårdsamordnare – ${WARD}`));
  const kommun = await login(browser, server.base, account(`Biståndshandläggare – ${BISTAND}`));
  const vc = await login(browser, server.base, account(`Sjuksköterska – ${VC}`));
  const nameOf = async (p) => (await p.page.locator("header.top .who span").innerText()).split(",")[0];
  const [kommunName, vcName] = [await nameOf(kommun), await nameOf(vc)];

  // Step 0: the ward registers the admission.
  const w = ward.page;
  await accessible(w, "inbox (ward)");
  await reflows(w, "inbox");
  await screenshot(w, "inkorg");
  await w.getByRole("link", { name: "Ny inskrivning" }).click();
  await accessible(w, "new admission form");
  const pnr = personnummer("19320512", 900 + Math.floor(Math.random() * 99));
  await w.getByLabel("Personnummer, samordningsnummer eller reservnummer").fill(pnr);
  await w.getByLabel("Förnamn").fill("Greta");
  await w.getByLabel("Efternamn").fill("Testsson");
  await w.getByLabel("Folkbokföringskommun").selectOption({ label: "Solna kommun (0184)" });
  await w.getByLabel("Listad på vårdcentral").selectOption({ label: VC });
  await screenshot(w, "ny-inskrivning");
  await w.getByRole("button", { name: "Registrera inskrivningen" }).click();
  await w.waitForURL(/\/arenden\/[0-9a-f-]{36}$/);
  const caseUrl = w.url();
  await accessible(w, "case page, admitted");
  await reflows(w, "case page");

  // Step 1: admission notice, routed to Solna's biståndsenhet and the listed vårdcentral.
  const estimate = new Date(Date.now() + 5 * 86400e3).toISOString().slice(0, 10);
  await send(w, "inskrivningsmeddelande", (f) => f.getByLabel("Beräknat utskrivningsdatum").fill(estimate));
  const notice = message(w, "Inskrivningsmeddelande");
  await assert.doesNotReject(receiptRow(notice, BISTAND).waitFor());
  await assert.doesNotReject(receiptRow(notice, VC).waitFor());
  // The pages a case leads to: correcting the notice, inviting another unit.
  await notice.getByRole("link", { name: "Rätta meddelandet" }).click();
  await accessible(w, "message page: correction");
  await w.goto(`${caseUrl}/bjud-in`);
  await accessible(w, "invite a unit");
  await w.goto(caseUrl);

  // The municipality finds it in its inbox and opens it; the ward sees "opened" arrive live.
  const k = kommun.page;
  await k.reload();
  await accessible(k, "inbox (municipality, new message)");
  await screenshot(k, "inkorg-kommun");
  await k.locator("#messages a", { hasText: "Inskrivningsmeddelande" }).first().click();
  await k.waitForURL(/\/arenden\//);
  assert.equal(k.url().split("#")[0], caseUrl);
  await receiptRow(notice, BISTAND).locator("td", { hasText: kommunName }).first().waitFor(LIVE);

  // Step 2: the vårdcentral acknowledges and appoints the fast vårdkontakt.
  const v = vc.page;
  await v.goto(caseUrl);
  await accessible(v, "case page (vårdcentral)");
  await message(v, "Inskrivningsmeddelande").getByRole("link", { name: "Felskickat eller vidarebefordra" }).click();
  await accessible(v, "message page: mis-sent or forward");
  await v.goto(caseUrl);
  await receiptRow(notice, VC).locator("td", { hasText: vcName }).first().waitFor(LIVE);
  await message(v, "Inskrivningsmeddelande").getByRole("button", { name: "Kvittera" }).click();
  await receiptRow(notice, VC).locator(".badge", { hasText: ACKNOWLEDGED }).waitFor(LIVE);
  await send(v, "fast_vardkontakt", async (f) => {
    await f.getByLabel("Fast vårdkontakt").fill("Sara Lind");
    await f.getByLabel("Yrkesroll").fill("Distriktssköterska");
    await f.getByLabel("Telefon").fill("08-123 456 70");
  });
  await message(w, "Fast vårdkontakt utsedd").waitFor(LIVE);
  await message(k, "Fast vårdkontakt utsedd").waitFor(LIVE);
  // The ward acknowledges it; the vårdcentral sees the receipt arrive.
  await w.reload();
  const wardName = await nameOf(ward);
  await message(w, "Fast vårdkontakt utsedd").getByRole("button", { name: "Kvittera" }).click();
  await w.waitForLoadState("load");
  const fvk = message(v, "Fast vårdkontakt utsedd");
  await receiptRow(fvk, WARD).locator(".badge", { hasText: ACKNOWLEDGED }).waitFor(LIVE);
  assert.match(await receiptRow(fvk, WARD).innerText(), new RegExp(wardName));

  // The municipality acknowledges the notice; the ward sees it without reloading.
  await message(k, "Inskrivningsmeddelande").getByRole("button", { name: "Kvittera" }).click();
  await receiptRow(notice, BISTAND).locator(".badge", { hasText: ACKNOWLEDGED }).waitFor(LIVE);

  // Step 3: planning information from the ward, saying a SIP is needed.
  await send(w, "planeringsunderlag", async (f) => {
    await f.getByLabel("Behov efter utskrivning").fill("Hjälp med personlig hygien och måltider, trygghetslarm.");
    await f.getByLabel("Funktionsförmåga").fill("Går med rollator inomhus.");
    await f.getByRole("radio", { name: "Ja" }).check();
  });
  await message(k, "Planeringsunderlag").waitFor(LIVE);

  // The patient consents to a SIP call and a SIP, recorded by the ward in one go.
  const consentForm = w.locator("form[action$='/samtycke']");
  await openDetails(w, consentForm);
  for (const kind of ["Att kallas till SIP", "Att en SIP upprättas"]) await consentForm.getByLabel(kind).check();
  await consentForm.getByRole("button", { name: "Registrera samtycke" }).click();
  await w.waitForLoadState("load");
  assert.match(await w.locator(".alert.notice").innerText(), /Samtycke registrerat/);
  await w.locator("#samtycken li", { hasText: "Att en SIP upprättas" }).waitFor();

  // Step 4: the municipality calls to the SIP meeting.
  await k.locator("#samtycken li", { hasText: "Att kallas till SIP" }).waitFor(LIVE);
  const meeting = new Date(Date.now() + 2 * 86400e3).toISOString().slice(0, 10) + "T10:00";
  await send(k, "kallelse_sip", async (f) => {
    await f.getByLabel("Mötestid").fill(meeting);
    await f.getByLabel("Plats").fill("Avdelning 21, samtalsrummet");
    await f.getByLabel("Deltagare").fill("Greta Testsson, Sara Lind");
  });
  await message(w, "Kallelse till SIP").waitFor(LIVE);
  await message(v, "Kallelse till SIP").waitFor(LIVE);
  // The vårdcentral acknowledges the call; the municipality sees it, timed for the report.
  await v.reload();
  const clicked = Date.now();
  await message(v, "Kallelse till SIP").getByRole("button", { name: "Kvittera" }).click();
  const call = message(k, "Kallelse till SIP");
  await receiptRow(call, VC).locator(".badge", { hasText: ACKNOWLEDGED }).waitFor(LIVE);
  console.log(`live receipt: acknowledged at the vårdcentral, shown at the municipality after ${Date.now() - clicked} ms`);

  // Step 5: ready for discharge. Sent first with the referrals neither confirmed nor explained:
  // refused, and the form comes back open with the choice made and the reason in it.
  const ready = messageForm(w, "utskrivningsklar");
  await openDetails(w, ready);
  await ready.getByRole("radio", { name: "Ja" }).check();
  await ready.getByRole("button", { name: "Skicka" }).click();
  await w.waitForLoadState("load");
  const refused = messageForm(w, "utskrivningsklar");
  assert.match(await refused.locator(".field-error").innerText(), /Bekräfta att remisser/);
  assert.ok(await refused.getByRole("radio", { name: "Ja" }).isChecked(), "the choice is kept");
  await accessible(w, "case page with a refused form");
  await screenshot(w, "nekat-formular");
  await send(w, "utskrivningsklar", async (f) => {
    await f.getByLabel("Remisser och beställningar som inte längre behövs är avbeställda").check();
  });
  await message(k, "Meddelande om utskrivningsklar").waitFor(LIVE);
  await message(v, "Meddelande om utskrivningsklar").waitFor(LIVE);
  // Everything the notice changed on the open pages followed: the header's Läge (the notice
  // starts the municipality's payment liability), steps, deadlines, timeline, the menu.
  await assert.doesNotReject(k.locator("#lage dd", { hasText: "Utskrivningsklar" }).waitFor(LIVE));
  await assertCurrent(k, "the municipality's case page after the ready notice");
  await assertCurrent(v, "the vårdcentral's case page after the ready notice");
  // The municipality's inbox, open in another tab, follows as well: summary, lists, menu.
  const kInbox = await kommun.context.newPage();
  await kInbox.goto(`${server.base}/`);
  await send(w, "information_vid_utskrivning", async (f) => {
    await f.getByLabel("Läkemedel").fill("Enligt läkemedelslistan, ny dos av Waran.");
    await f.getByLabel("Information till patienten").fill("Kontakta vårdcentralen vid feber.");
  });
  await message(k, "Information vid utskrivning").waitFor(LIVE);
  await kInbox.locator("#messages a", { hasText: "Information vid utskrivning" }).first().waitFor(LIVE);
  await assertCurrent(kInbox, "the municipality's inbox after a new message");
  await kInbox.close();
  await accessible(w, "case page (ward, discharged)");
  await screenshot(w, "arende");

  // Step 7: the municipality draws up the SIP with the person's own goals.
  await k.goto(`${caseUrl}/sip`);
  await accessible(k, "SIP editor");
  await reflows(k, "SIP editor");
  await k.getByLabel("Behov").fill("Hjälp med hygien\nMåltider");
  await k.locator("#i0d").fill("Hemtjänst morgon och kväll");
  await k.locator("#i0u").selectOption({ label: BISTAND });
  await k.locator("#i1p").selectOption("region");
  await k.locator("#i1u").selectOption({ label: VC });
  await k.locator("#i1d").fill("Hembesök av distriktssköterska varje vecka");
  await k.getByLabel("Personens egna mål").fill("Jag vill klara mig hemma och gå till affären själv igen.");
  await k.locator("#p0n").fill("Greta Testsson");
  await k.locator("#p0r").selectOption("patient");
  await k.locator("#p1n").fill("Sara Lind");
  await k.getByLabel("Namn", { exact: true }).last().fill(kommunName);
  const followUp = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);
  await k.getByLabel("Uppföljning senast").fill(followUp);
  await k.getByLabel("Hur uppföljningen görs").fill("SIP-möte på vårdcentralen");
  await screenshot(k, "sip");
  await k.getByRole("button", { name: "Spara SIP" }).click();
  await k.waitForURL(/\/arenden\/[0-9a-f-]{36}#sip$/);
  await w.locator("#sip", { hasText: "Upprättad" }).waitFor(LIVE);

  // The municipality screens frailty and the need for coordination at the meeting.
  await k.goto(caseUrl);
  await k.locator("#screening summary").click();
  await k.getByLabel("Skörhet (nivå 1–9)").selectOption("6");
  await k.getByLabel("Bedöm samordningsbehovet nu").check();
  await k.getByLabel("Behöver insatser från både region och kommun").check();
  await k.getByLabel("Anteckning (vad bedömningen bygger på)").fill("Bedömt vid SIP-mötet");
  await accessible(k, "case page with the screening form open");
  await k.getByRole("button", { name: "Spara screening" }).click();
  await k.waitForURL(/#screening$/);
  await k.locator("#screening", { hasText: "Skörhet nivå 6 av 9" }).waitFor();
  await w.locator("#screening", { hasText: "Samordningsbehov: ja" }).waitFor(LIVE);

  await k.goto(`${caseUrl}/sip/utskrift`);
  await accessible(k, "SIP print view");
  assert.match(await k.locator("p.goals").innerText(), /klara mig hemma/);
  assert.match(await k.locator("main").innerText(), /Skörhet nivå 6 av 9/);

  // Step 8: the coordinator's unit follows the SIP up and closes it.
  await k.goto(`${caseUrl}/sip`);
  await k.getByLabel("Utvärdering").fill("Hemtjänsten fungerar, Greta handlar själv.");
  await k.getByRole("radio", { name: "Planen avslutas" }).check();
  await k.getByRole("button", { name: "Spara uppföljningen" }).click();
  await k.waitForURL(/#sip$/);
  await w.locator("#sip", { hasText: "Avslutad" }).waitFor(LIVE);
  const steps = await w.locator("#steg li").allInnerTexts();
  assert.equal(steps.length, 8);
  for (const s of steps) assert.match(s, /Klart/, `every step done: ${s}`);
  await accessible(k, "case page (municipality, all steps done)");

  // The unread count stands in the page title, and the inbox empties as things are acknowledged.
  await v.goto(`${server.base}/`);
  const counted = await v.locator('header.top nav a[href="/"] .count').allInnerTexts();
  const unread = counted.length ? parseInt(counted[0], 10) : 0;
  assert.equal(await v.title(), unread > 0 ? `(${unread}) Inkorg – Samverka` : "Inkorg – Samverka");

  // Finding the patient by number, the directory, the glossary, the accessibility statement.
  await v.goto(`${server.base}/sok`);
  await v.getByLabel("Personnummer, samordningsnummer eller reservnummer").fill(pnr);
  await v.getByRole("button", { name: "Sök" }).click();
  assert.match(await v.locator("main").innerText(), /Greta Testsson/);
  assert.ok(!v.url().includes(pnr.slice(0, 8)), "the number stays out of the address");
  await accessible(v, "search");
  await v.goto(`${server.base}/enheter?q=Solna`);
  await accessible(v, "directory");
  await reflows(v, "directory");
  await v.goto(`${server.base}/ordlista`);
  await accessible(v, "glossary");
  await v.goto(`${server.base}/tillganglighet`);
  await accessible(v, "accessibility statement");

  // In English.
  await v.getByRole("link", { name: "In English" }).click();
  await v.goto(caseUrl);
  assert.match(await v.locator("#steg h2").innerText(), /The eight steps/);
  await accessible(v, "case page in English");

  // The log review: Solna's unit manager sees who read the patient's data.
  const chief = await login(browser, server.base, account(`Enhetschef – ${BISTAND}`));
  await chief.page.goto(`${server.base}/logg`);
  await chief.page.getByLabel("Patientens personnummer").fill(pnr);
  await chief.page.getByRole("button", { name: "Visa" }).click();
  const log = await chief.page.locator("table.list tbody").innerText();
  assert.match(log, new RegExp(kommunName));
  await accessible(chief.page, "log review");
  await screenshot(chief.page, "loggkontroll");
  await chief.page.getByRole("button", { name: "Loggutdrag för patienten" }).click();
  assert.match(await chief.page.locator("main").innerText(), /Greta Testsson/);
  await accessible(chief.page, "log extract");

  // Follow-up: the unit manager sees last month's indicators, drawn and tabulated.
  await chief.page.goto(`${server.base}/uppfoljning`);
  assert.match(await chief.page.locator("main").innerText(), /Medelantal dagar som utskrivningsklar/);
  assert.ok((await chief.page.locator("svg.chart[role=img]").count()) >= 4, "trend and comparison charts");
  await accessible(chief.page, "follow-up");
  await reflows(chief.page, "follow-up");
  await screenshot(chief.page, "uppfoljning");

  // The municipality's invoice basis for last month, with its files.
  await chief.page.goto(`${server.base}/betalningsansvar`);
  assert.match(await chief.page.locator("main").innerText(), /Summering per vårdform/);
  await accessible(chief.page, "invoice basis");
  await reflows(chief.page, "invoice basis");

  // Administration: the municipality's administrator adds a user and sees the password once.
  const admin = await login(browser, server.base, account(`Administratör – ${BISTAND}`));
  await admin.page.goto(`${server.base}/admin`);
  await accessible(admin.page, "administration");
  await screenshot(admin.page, "administration");
  await admin.page.locator("summary", { hasText: "Ny användare" }).click();
  await admin.page.getByLabel("Namn", { exact: true }).first().fill("Nina Ny");
  await admin.page.getByLabel("Användarnamn").fill("nina.ny");
  await admin.page.getByRole("button", { name: "Skapa användaren" }).click();
  assert.match(await admin.page.locator("main").innerText(), /Tillfälligt lösenord för Nina Ny/);
  await accessible(admin.page, "administration: temporary password");

  // The region's administrator also sees the messages from the hospitals' record systems.
  const radmin = await login(browser, server.base, account("Administratör – ASIH Norr"));
  await radmin.page.goto(`${server.base}/admin`);
  await radmin.page.getByRole("link", { name: "Meddelanden från journalsystemet (HL7)" }).click();
  assert.match(await radmin.page.locator("h1").innerText(), /Meddelanden från journalsystemet/);
  await accessible(radmin.page, "the admission feed's messages");
  for (const c of [ward, kommun, vc, chief, admin, radmin]) await c.context.close();
  assert.ok(checked.length >= 18, `axe checked ${checked.length} pages`);
});

test("the login pages are accessible and refuse a wrong code", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/logga-in`);
  await accessible(page, "login");
  await page.getByLabel("Användarnamn").fill(accounts[0].username);
  await page.getByLabel("Lösenord").fill("samverka-demo");
  await page.getByRole("button", { name: "Logga in" }).click();
  await accessible(page, "login: code");
  await page.getByLabel("Sexsiffrig kod").fill("000000");
  await page.getByRole("button", { name: "Fortsätt" }).click();
  assert.match(await page.locator(".alert.error").innerText(), /kod/i);
  await accessible(page, "login: wrong code");
  await context.close();
});
