// Scratch (not committed): screenshot admin pages at a width against a running devtools.pages.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const line = readFileSync("/tmp/admin-pages.out", "utf8").split("\n").find((l) => l.startsWith("ACDS_PAGES "));
const info = JSON.parse(line.slice(11));
const [width, height, ...routes] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors"] });
const ctx = await browser.newContext({ viewport: { width: +width, height: +height }, locale: "en-GB", timezoneId: "UTC", ignoreHTTPSErrors: true });
const page = await ctx.newPage();
await page.goto(info.pages.admin_home);
const frame = page.frameLocator("iframe.content");
const popupP = ctx.waitForEvent("page");
await frame.getByRole("button", { name: "Sign in" }).click();
const popup = await popupP;
const closed = popup.waitForEvent("close", { timeout: 30000 });
await popup.getByRole("button", { name: "Continue" }).click();
if (!popup.isClosed()) await closed;
await frame.getByRole("main").waitFor();
if (process.env.SYNC_FIRST) {
  await frame.locator("body").evaluate(() => { window.location.hash = "#/dashboard"; });
  await frame.getByRole("button", { name: "Sync now" }).click();
  await page.waitForTimeout(25000);
}
for (const r of routes) {
  await frame.locator("body").evaluate((_, h) => { window.location.hash = h; }, `#/${r}`);
  await page.waitForTimeout(2500);
  const over = await frame.locator("html").evaluate((html) => {
    const w = html.clientWidth; const out = [];
    for (const el of html.querySelectorAll("*")) { const b = el.getBoundingClientRect(); if (b.right > w + 0.5 && b.width > 0) out.push(`${el.tagName}.${String(el.className).slice(0, 40)} r=${Math.round(b.right)} w=${Math.round(b.width)} "${(el.textContent ?? "").slice(0, 40)}"`); }
    return { sw: html.scrollWidth, cw: w, out: out.slice(0, 15) };
  });
  console.log(r, JSON.stringify(over, null, 1));
  const total = await frame.locator("html").evaluate((h) => h.scrollHeight);
  for (let y = 0, i = 0; y < total && i < 6; y += +height - 100, i += 1) {
    await frame.locator("html").evaluate((h, top) => { h.ownerDocument.defaultView.scrollTo(0, top); }, y);
    await page.screenshot({ path: `/tmp/shot-${r.replace(/[^a-z]/g, "")}-${width}-${i}.png`, animations: "disabled" });
  }
}
await browser.close();
