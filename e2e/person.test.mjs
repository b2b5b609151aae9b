// The person's own pages on a phone: a demo patient signs in with e-legitimation (a real OIDC
// provider vouching for the personnummer), follows their discharge and
// sees who has read about them, at 320 px wide, in Swedish and English; invites a närstående, who
// sees only what was allowed; takes back a consent, and the ward can send nothing more. axe-core checks every
// page for WCAG 2.1 AA, and nothing may need sideways scrolling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { demoSession, assertAccessible, screenshot, login, PERSONNUMMER_CLAIM } from "./harness.mjs";

const demo = demoSession({ patients: 8, oidc: true });

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
  // The demo's representatives are listed too: the daughter a patient invited, the god man.
  for (const representative of ["Sara Demodotter", "Göran Godeman"]) {
    await page.locator("form[action='/min/demo'] button", { hasText: representative }).waitFor();
  }
  // Signing in with e-legitimation: the provider vouches for the first demo patient's
  // personnummer, in the configured claim.
  const first = page.locator("form[action='/min/demo']").first();
  const name = (await first.locator("button").innerText()).trim();
  const personnummer = await first.locator("input[name=personnummer]").inputValue();
  await demo.provider.know("ingrid", {
    [PERSONNUMMER_CLAIM]: personnummer,
    name,
    acr: "http://id.elegnamnden.se/loa/1.0/loa3",
  });
  await page.getByRole("link", { name: /BankID \(test\)/ }).click();
  await page.waitForURL((url) => url.href.startsWith(demo.provider.issuer));
  await page.locator("input[name=sub]").fill("ingrid");
  await page.locator("form button[type=submit], form input[type=submit]").first().click();
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
  await page.getByText(`${ward} har läst det`).first().waitFor();
  await assertAccessible(page, "my discharge with what I wrote");
  // The SIP editor shows them beside the goals, as the person's own words.
  await staff.page.goto(`${demo.base}/arenden/${caseId}/sip`);
  await staff.page.getByText("Att få bo kvar hemma med katten.").first().waitFor();
  await staff.context.close();

  // The log extract lists the views that just happened: the coordinator's unit read the case.
  await page.getByRole("link", { name: "Se vem som har läst om dig" }).click();
  await page.getByRole("heading", { name: "Vem har läst om dig" }).waitFor();
  await page.locator("ul.log li", { hasText: ward }).first().waitFor();
  await assertAccessible(page, "who has read");
  await assertFitsPhone(page, "who has read");

  // The accessibility statement of these pages, from the footer.
  await page.getByRole("link", { name: "Så fungerar sidorna för alla" }).click();
  await page.getByRole("heading", { name: "Så fungerar sidorna för alla" }).waitFor();
  await assertAccessible(page, "accessibility statement");
  await assertFitsPhone(page, "accessibility statement");

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

test("a närstående sees only what the person allowed; a withdrawn consent stops the messages", async () => {
  const context = await demo.browser.newContext({ locale: "sv-SE", viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${demo.base}/min`);
  await page.locator("form[action='/min/demo'] button").nth(1).click();
  await page.getByRole("heading", { name: "Min utskrivning" }).waitFor();
  await page.locator("ul.cases a").first().click();
  await page.waitForURL(/\/min\/utskrivning\/[0-9a-f-]{36}$/);
  const caseUrl = page.url();
  const caseId = caseUrl.split("/").pop();
  const ward = (await page.locator("ul.contacts li strong").first().innerText()).trim();

  // The person invites her daughter to follow where she is, not her plan or her words.
  await page.goto(`${demo.base}/min/narstaende`);
  await page.getByRole("heading", { name: "Vem får följa dig" }).waitFor();
  await page.getByLabel("Namn").fill("Eva Demodotter");
  await page.getByLabel("Personnummer (tolv siffror)").fill("19700102-2388");
  await page.getByRole("button", { name: "Bjud in" }).click();
  await page.getByText("Klart! Nu kan hen logga in med sin e-legitimation.").waitFor();
  await page.getByText("Eva Demodotter").waitFor();
  await assertAccessible(page, "who may follow you");
  await assertFitsPhone(page, "who may follow you");

  // The daughter signs in as herself and sees the standing and whom to call, nothing more.
  const hers = await demo.browser.newContext({ locale: "sv-SE", viewport: { width: 320, height: 640 } });
  const daughter = await hers.newPage();
  await daughter.goto(`${demo.base}/min`);
  await daughter.locator("form[action='/min/demo'] button", { hasText: "Eva Demodotter" }).click();
  await daughter.getByText(/Du följer .+ som närstående/).waitFor();
  await daughter.goto(caseUrl);
  await daughter.getByRole("heading", { name: "Just nu" }).waitFor();
  await daughter.getByRole("heading", { name: "Hit kan du ringa" }).waitFor();
  for (const hidden of ["Din plan", "Det här vill jag säga", "Ditt samtycke"]) {
    assert.equal(await daughter.getByRole("heading", { name: hidden }).count(), 0, `${hidden} is not shared`);
  }
  assert.equal(await daughter.getByRole("link", { name: "Se vem som har läst om dig" }).count(), 0);
  await assertAccessible(daughter, "a närstående's view");
  await assertFitsPhone(daughter, "a närstående's view");

  // The person's log extract names the daughter's reading.
  await page.goto(`${demo.base}/min/vem-har-last`);
  await page.getByText("Eva Demodotter (närstående)").first().waitFor();

  // The ward has the case open; the person says yes to sharing and then takes it back. The
  // open page says why nothing more can be sent, and offers only the cancellation.
  const account = demo.accounts.find((a) => a.work.endsWith(`– ${ward}`));
  const staff = await login(demo.browser, demo.base, account.username);
  await staff.page.goto(`${demo.base}/arenden/${caseId}`);
  const formsNow = () => staff.page.locator("#skriv form").evaluateAll((fs) => fs.map((f) => f.id));
  const before = await formsNow();
  assert.ok(before.some((id) => id !== "skicka-avbrott_i_processen"), `the ward could write before: ${before}`);
  await page.goto(caseUrl);
  const sharing = page.locator("ul.consents li", { hasText: "dela" });
  if ((await sharing.getByRole("button", { name: "Jag säger ja" }).count()) > 0) {
    await sharing.getByRole("button", { name: "Jag säger ja" }).click();
    await page.getByText("Tack! Vi har fått det du skrev.").waitFor();
  }
  await page.locator("ul.consents li", { hasText: "dela" }).getByRole("button", { name: "Jag tar tillbaka mitt ja" }).click();
  await staff.page.getByText("Inget skickas till andra enheter i ärendet").waitFor({ timeout: 10000 });
  const forms = await formsNow();
  assert.ok(forms.length > 0 && forms.every((id) => id === "skicka-avbrott_i_processen"), `only the cancellation is offered: ${forms}`);
  await assertAccessible(staff.page, "case page after the consent was withdrawn");
  await staff.context.close();
  await hers.close();
  await context.close();
});

test("a person writes about herself and shares it; the unit in her care reads it, WCAG 2.1 AA", async () => {
  const context = await demo.browser.newContext({ locale: "sv-SE", viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`${demo.base}/min`);
  await page.locator("form[action='/min/demo'] button").nth(2).click();
  await page.getByRole("heading", { name: "Min utskrivning" }).waitFor();
  await page.locator("ul.cases a").first().click();
  await page.waitForURL(/\/min\/utskrivning\/[0-9a-f-]{36}$/);
  const caseId = page.url().split("/").pop();
  const units = await page.locator("ul.contacts li strong").allInnerTexts();

  await page.goto(`${demo.base}/min`);
  await page.getByRole("link", { name: /Om mig/ }).click();
  await page.getByRole("heading", { name: "Om mig", level: 1 }).waitFor();
  await page.getByLabel("Vem är du?").fill("Kallas Gittan. Född i Örebro.");
  await page.getByLabel("Vad gör dig glad?").fill("Kaffe på förmiddagen och radio.");
  await page.getByRole("button", { name: "Spara" }).click();
  await page.getByText("Klart! Det du skrev är sparat.").waitFor();
  await page.getByText("Bara du kan läsa texten nu.").waitFor();
  await assertAccessible(page, "about me, not shared");
  await assertFitsPhone(page, "about me, not shared");
  await page.getByRole("button", { name: "Ja, dela med dem som vårdar mig" }).click();
  await page.getByText("Klart! De som vårdar dig kan nu läsa texten.").waitFor();
  await assertAccessible(page, "about me, shared");
  await assertFitsPhone(page, "about me, shared");

  // A unit in her care (the last she may call, not the ward the other tests sign in at) reads
  // it in her own words.
  const account = demo.accounts.find((a) => units.slice(1).some((u) => a.work.endsWith(`– ${u}`)));
  assert.ok(account, `a demo account works at one of ${units}`);
  const staff = await login(demo.browser, demo.base, account.username);
  await staff.page.goto(`${demo.base}/arenden/${caseId}`);
  await staff.page.getByRole("link", { name: "Levnadsberättelse" }).click();
  await staff.page.getByRole("heading", { name: "Levnadsberättelse", level: 1 }).waitFor();
  await staff.page.locator("#berattelsen dd", { hasText: "Kaffe på förmiddagen och radio." }).waitFor();
  await assertAccessible(staff.page, "life story, staff");
  await staff.context.close();
  await context.close();
});
