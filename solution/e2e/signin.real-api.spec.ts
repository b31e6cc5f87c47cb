/**
 * REAL API — no mock on this path. Sign-in runs MSAL's real code against the local OpenID
 * authority; the app's home page calls the existing admin route GET /connection on the local API
 * (SYNC_LOCAL_AUTH=1), which checks the token and the caller's roles in the Dataverse sandbox.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser } from "playwright-core";
import { launch, newContext, signInThroughPopup } from "./harness";

const info = inject("pages");
let browser: Browser;

beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser.close(); });

function home(user: string): string {
  return `${info.urls.org}/main.aspx?pagetype=webresource&webresource=acds_/app/index.html&user=${user}`;
}

describe("sign-in through MSAL and gating on the real API", () => {
  it("an admin signs in with the popup and sees the connection (200)", async () => {
    const ctx = await newContext(browser, 1280, 720);
    const page = await ctx.newPage();
    await page.goto(home(info.users.admin));
    const frame = page.frameLocator("iframe.content");
    await signInThroughPopup(page, frame);
    await expect.poll(() => frame.getByText("Connected", { exact: true }).count(), { timeout: 30_000 }).toBe(1);
    expect(await frame.getByText(info.urls.ac).count()).toBe(1);
    // Signed in now: a reload gets its token without the popup (MSAL cache / silent SSO).
    await page.reload();
    await expect.poll(() => page.frameLocator("iframe.content").getByText("Connected", { exact: true }).count(),
      { timeout: 30_000 }).toBe(1);
    expect(ctx.pages()).toHaveLength(1);
    await ctx.close();
  });

  it("a seller without an admin role is refused by the API (403) and told which role it needs", async () => {
    const ctx = await newContext(browser, 1280, 720);
    const page = await ctx.newPage();
    await page.goto(home(info.users.seller));
    const frame = page.frameLocator("iframe.content");
    await signInThroughPopup(page, frame);
    await expect.poll(() => frame.getByText(/You need the ActiveCampaign Admin role/).count(), { timeout: 30_000 }).toBe(1);
    expect(await frame.getByText("Connected", { exact: true }).count()).toBe(0);
    await ctx.close();
  });

  it("the API refuses a call without a token (401), with CORS for the org's origin only", async () => {
    const ctx = await newContext(browser, 1280, 720);
    const page = await ctx.newPage();
    await page.goto(home(info.users.admin));
    const url = `${info.urls.api}/api/connections/${info.connection_id}/connection`;
    const status = await page.evaluate(async (u) => (await fetch(u)).status, url);
    expect(status).toBe(401);
    const bad = await page.evaluate(async (u) => {
      const r = await fetch(u, { headers: { Authorization: "Bearer not-a-token" } });
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    }, url);
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe("unauthenticated");
    await ctx.close();
  });
});
