/**
 * CONTRACT TEST — the seller routes (issue 19) are served by the CONTRACT MOCK
 * (devtools/seller_mock.py), which answers exactly the contract the lead fixed and proxies every
 * other path to the real API. Sign-in (MSAL against the stub authority), the org stand-in, the Xrm
 * stub, the form command and the side pane are real. When issue 19 lands, run the stack with
 * `--seller-routes api` (see solution/README.md) and drop the /_mock/deny step.
 */
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, FrameLocator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ROOT, launch, newContext, panelFrame, signInThroughPopup } from "./harness";

const info = inject("pages");
const SHOTS = process.env.ACDS_SCREENSHOTS === "1" ? resolve(ROOT, "docs", "screenshots") : null;
let browser: Browser;

beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser.close(); });

async function openPanel(user: string, width: number, height: number, layout: "pane" | "section" = "pane",
  record = info.contact.id): Promise<{ page: Page; frame: FrameLocator }> {
  const ctx = await newContext(browser, width, height);
  const page = await ctx.newPage();
  await page.goto(`${info.urls.org}/main.aspx?pagetype=entityrecord&etn=contact&id=${record}&user=${user}&layout=${layout}`);
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

describe("the seller's panel (contract mock for the seller routes)", () => {
  it("a seller opens a contact, sees its timeline, adds it to an automation, sends a campaign, and the timeline shows both", async () => {
    const { page, frame } = await openPanel(info.users.seller, 1280, 720);
    const timeline = frame.getByRole("list", { name: "Marketing activity, newest first" });
    await expect.poll(() => timeline.getByRole("listitem").count(), { timeout: 30_000 }).toBe(20);
    expect(await frame.getByRole("link", { name: info.contact.email }).count()).toBe(1);
    await noSeriousViolations(page);
    await shoot(page, "panel-side-pane.png");

    // Keyboard only: reach the first action by Tab, open it with Enter.
    await frame.getByRole("heading", { name: "ActiveCampaign", level: 1 }).click();
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
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toContain("was added to the automation “Welcome series”");

    await frame.getByRole("button", { name: "Send campaign" }).click();
    await dialog.getByRole("combobox", { name: "Campaign" }).pressSequentially("dec");
    await frame.getByRole("option", { name: "December newsletter" }).click();
    await dialog.getByRole("button", { name: "Continue" }).click();
    await dialog.getByRole("button", { name: "Send", exact: true }).click();
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toContain("The campaign “December newsletter” was sent");

    const items = timeline.getByRole("listitem");
    await expect.poll(async () => [await items.nth(0).textContent(), await items.nth(1).textContent()].join(" | "),
      { timeout: 20_000 }).toMatch(/Campaign sent: December newsletter.*\|.*Entered automation: Welcome series/);
    expect(await items.nth(0).getByRole("link").getAttribute("href")).toMatch(/^https:\/\/.*\/app\/campaigns\/21$/);
    expect(await items.nth(0).locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Adding it again is refused by the API, and the refusal is shown in words.
    await frame.getByRole("button", { name: "Add to automation" }).click();
    await dialog.getByRole("combobox", { name: "Automation" }).pressSequentially("welc");
    await frame.getByRole("option", { name: "Welcome series" }).click();
    await dialog.getByRole("button", { name: "Continue" }).click();
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toContain("already in the automation");
    await shoot(page, "panel-outcome-side-pane.png");
    await page.context().close();
  });

  it("works in a form section at 1280×720, with older activity a page at a time", async () => {
    const { page, frame } = await openPanel(info.users.seller, 1280, 720, "section");
    const items = frame.getByRole("list", { name: "Marketing activity, newest first" }).getByRole("listitem");
    await expect.poll(() => items.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(20);
    const before = await items.count();
    await frame.getByRole("button", { name: "Show older activity" }).click();
    await expect.poll(() => items.count(), { timeout: 20_000 }).toBeGreaterThan(before);
    await noSeriousViolations(page);
    await frame.getByRole("heading", { name: "ActiveCampaign", level: 1 }).scrollIntoViewIfNeeded();
    await shoot(page, "panel-form-section-1280.png");
    await page.context().close();
  });

  it("a user without the role sees a short explanation and nothing of the record", async () => {
    const { page, frame } = await openPanel(info.users.norole, 1280, 720);
    await expect.poll(() => frame.getByText(/needs the ActiveCampaign User security role/).count(), { timeout: 30_000 }).toBe(1);
    expect(await frame.getByText(info.contact.email).count()).toBe(0);
    expect(await frame.getByRole("button", { name: "Add to automation" }).count()).toBe(0);
    await noSeriousViolations(page);
    await shoot(page, "panel-no-role.png");
    await page.context().close();
  });

  it("a seller who cannot read the record sees nothing of it", async () => {
    const r = await fetch(`${info.urls.mock}/_mock/deny`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: info.users.team_seller, record: info.contact.id }) });
    expect(r.status).toBe(200);
    const { page, frame } = await openPanel(info.users.team_seller, 1280, 720);
    await expect.poll(() => frame.getByText("You do not have access to this record's marketing information.").count(),
      { timeout: 30_000 }).toBe(1);
    expect(await frame.getByText(info.contact.email).count()).toBe(0);
    expect(await frame.getByRole("heading", { name: "Timeline" }).count()).toBe(0);
    await page.context().close();
  });
});
