/**
 * REAL API — the seller's panel on the local API (SYNC_LOCAL_AUTH=1), the Dataverse and ActiveCampaign
 * sandboxes and Azurite; sign-in through MSAL against the stub authority. The records come from
 * devtools/pages_seed.py: Sam Seller's own contact (linked, with a marketing history of more than a page),
 * his lead, and a contact of another business unit that his Basic-depth role cannot read — the API asks
 * Dynamics (RetrievePrincipalAccess) for every record, so nothing here is arranged by a mock.
 */
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, FrameLocator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ROOT, launch, newContext, panelFrame, signInThroughPopup } from "./harness";

const info = inject("pages");
const SHOTS = process.env.ACDS_SCREENSHOTS === "1" ? resolve(ROOT, "docs", "screenshots") : null;
const LIVE = { timeout: 30_000, interval: 250 };
const NO_ACCESS = "You do not have access to this record's marketing information.";
let browser: Browser;

beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser.close(); });

async function openPanel(user: string, entity: "contact" | "lead", record: string, width: number, height: number,
  layout: "pane" | "section" = "pane"): Promise<{ page: Page; frame: FrameLocator }> {
  const ctx = await newContext(browser, width, height);
  const page = await ctx.newPage();
  await page.goto(`${info.urls.org}/main.aspx?pagetype=entityrecord&etn=${entity}&id=${record}&user=${user}&layout=${layout}`);
  if (layout === "pane") await page.getByRole("button", { name: "ActiveCampaign" }).click();
  const frame = panelFrame(page, layout);
  await signInThroughPopup(page, frame);
  return { page, frame };
}

/**
 * axe over the host page and the panel's frame. Excluded: Fluent UI's focus sentinels (tabster's
 * `data-tabster-dummy` elements, added once a Dialog exists): aria-hidden and tabbable on purpose,
 * they hand focus straight on to the next real element and never keep it, which axe's
 * aria-hidden-focus rule cannot know. Everything else counts.
 */
async function noSeriousViolations(page: Page): Promise<void> {
  const dummy = "[data-tabster-dummy]";
  const result = await new AxeBuilder({ page }).exclude(dummy).exclude([".side-pane iframe", dummy])
    .exclude([".form-section iframe", dummy]).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual([]);
}

async function shoot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SHOTS, name) });
}

async function choose(frame: FrameLocator, combobox: string, typed: string, option: string): Promise<void> {
  const dialog = frame.getByRole("dialog");
  await dialog.getByRole("combobox", { name: combobox }).pressSequentially(typed);
  await frame.getByRole("option", { name: option }).click();
  await dialog.getByRole("button", { name: "Continue" }).click();
}

describe("the seller's panel on the real API", () => {
  it("a seller opens his contact, sees its timeline, adds it to an automation, sends a campaign, and the timeline shows both", async () => {
    const { page, frame } = await openPanel(info.users.seller, "contact", info.seller_contact.id, 1280, 720);
    const timeline = frame.getByRole("list", { name: "Marketing activity, newest first" });
    const items = timeline.getByRole("listitem");
    await expect.poll(() => items.count(), LIVE).toBe(20); // a first page of a longer history
    expect(await frame.getByRole("link", { name: info.seller_contact.email }).count()).toBe(1);
    const automations = frame.getByRole("list", { name: "Automations" });
    expect(await automations.textContent()).toContain("Re-engagement");
    expect(await frame.getByRole("list", { name: "Lists" }).textContent()).toContain("Newsletter");
    expect(await timeline.textContent()).toMatch(/Entered automation: Re-engagement/);
    await noSeriousViolations(page);
    await shoot(page, "panel-side-pane.png");

    // The pane's header says "ActiveCampaign"; the panel's heading names the person, in a landmark of that name.
    const heading = frame.getByRole("main", { name: "ActiveCampaign" }).getByRole("heading", { level: 1 });
    expect(await heading.textContent()).toBe(info.seller_contact.name);
    expect(await frame.getByText("ActiveCampaign", { exact: true }).count()).toBe(0);

    // Keyboard only: reach the first action by Tab, open it with Enter.
    await heading.click();
    await page.keyboard.press("Tab");
    await expect.poll(() => frame.getByRole("button", { name: "Add to automation" }).evaluate(
      (el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    const dialog = frame.getByRole("dialog");
    await dialog.getByRole("combobox", { name: "Automation" }).pressSequentially("welc");
    await frame.getByRole("option", { name: "Welcome series" }).click();
    await noSeriousViolations(page);
    await dialog.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => dialog.getByText(/Add .* to the automation “Welcome series”\?/).count()).toBe(1);
    await shoot(page, "panel-confirm.png");
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    const outcome = frame.getByRole("status");
    await expect.poll(() => outcome.textContent(), LIVE).toContain("was added to the automation “Welcome series”");
    await expect.poll(() => automations.textContent(), LIVE).toContain("Welcome series");

    await frame.getByRole("button", { name: "Send campaign" }).click();
    await choose(frame, "Campaign", "welc", "Welcome campaign");
    await dialog.getByRole("button", { name: "Send", exact: true }).click();
    await expect.poll(() => outcome.textContent(), LIVE).toContain("The campaign “Welcome campaign” was sent");

    // Both are the newest two items (the same second orders them by source, so either may be first).
    const newestTwo = async () => [await items.nth(0).textContent(), await items.nth(1).textContent()].sort().join(" | ");
    await expect.poll(newestTwo, LIVE).toMatch(/^Campaign sent: Welcome campaign.* \| Entered automation: Welcome series/);
    const times = await timeline.locator("time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime") ?? ""));
    expect(times).toEqual([...times].sort().reverse());
    const sent = items.filter({ hasText: "Campaign sent: Welcome campaign" }).first();
    expect(await sent.getByRole("link").getAttribute("href")).toBe(`${info.urls.ac}/app/campaigns/1`);
    expect(await sent.locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Adding it again is refused by the API, and the refusal is shown in words.
    await frame.getByRole("button", { name: "Add to automation" }).click();
    await choose(frame, "Automation", "welc", "Welcome series");
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => outcome.textContent(), LIVE).toContain("already in the automation");
    await shoot(page, "panel-outcome-side-pane.png");
    await page.context().close();
  });

  it("works in a form section at 1280×720, with older activity a page at a time", async () => {
    const { page, frame } = await openPanel(info.users.seller, "contact", info.seller_contact.id, 1280, 720, "section");
    const items = frame.getByRole("list", { name: "Marketing activity, newest first" }).getByRole("listitem");
    await expect.poll(() => items.count(), LIVE).toBe(20);
    await frame.getByRole("button", { name: "Show older activity" }).click();
    await expect.poll(() => items.count(), LIVE).toBeGreaterThan(20);
    // The oldest of the seeded history: the first site visit, 48 days ago.
    expect(await items.last().textContent()).toMatch(/^Site visit: example\.com\//);
    expect(await frame.getByRole("button", { name: "Show older activity" }).count()).toBe(0);
    await noSeriousViolations(page);
    // The form's header names the record and the section's label says "ActiveCampaign": the panel's own heading
    // is there for screen readers only, and the name is not drawn a second time.
    const heading = frame.getByRole("main", { name: "ActiveCampaign" }).getByRole("heading", { level: 1 });
    expect(await heading.evaluate((el) => getComputedStyle(el).position)).toBe("absolute");
    expect(await frame.getByText(info.seller_contact.name, { exact: true }).count()).toBe(0);
    expect(await page.getByRole("region", { name: "ActiveCampaign" }).count()).toBe(1); // the section's label
    await frame.getByRole("group", { name: "Sales actions" }).scrollIntoViewIfNeeded();
    await shoot(page, "panel-form-section-1280.png");
    await page.context().close();
  });

  it("a seller's own lead passes the record check too", async () => {
    const { page, frame } = await openPanel(info.users.seller, "lead", info.seller_lead.id, 1280, 720, "section");
    await expect.poll(() => frame.getByRole("heading", { name: "Timeline" }).count(), LIVE).toBe(1);
    expect(await frame.getByText(NO_ACCESS).count()).toBe(0);
    expect(await frame.getByRole("button", { name: "Add to automation" }).count()).toBe(1);
    await page.context().close();
  });

  it("a user without the role sees a short explanation and nothing of the record", async () => {
    const { page, frame } = await openPanel(info.users.norole, "contact", info.seller_contact.id, 1280, 720);
    await expect.poll(() => frame.getByText(/needs the ActiveCampaign User security role/).count(), LIVE).toBe(1);
    expect(await frame.getByText(info.seller_contact.email).count()).toBe(0);
    expect(await frame.getByRole("button", { name: "Add to automation" }).count()).toBe(0);
    await noSeriousViolations(page);
    await shoot(page, "panel-no-role.png");
    await page.context().close();
  });

  it("a seller who cannot read the record in Dynamics sees nothing of it", async () => {
    const { page, frame } = await openPanel(info.users.seller, "contact", info.unreadable_contact.id, 1280, 720);
    await expect.poll(() => frame.getByText(NO_ACCESS).count(), LIVE).toBe(1);
    expect(await frame.getByText(info.unreadable_contact.email).count()).toBe(0);
    expect(await frame.getByRole("heading", { name: "Timeline" }).count()).toBe(0);
    expect(await frame.getByRole("button", { name: "Add to automation" }).count()).toBe(0);
    await noSeriousViolations(page);
    await page.context().close();
  });
});
