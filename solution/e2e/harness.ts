/**
 * The browser tests' harness: starts `python -m devtools.pages --json` (Azurite, the sandboxes, the
 * org stand-in, the sign-in stub, the real API and the queue worker) and Debian's chromium through
 * playwright-core, never a downloaded browser.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, type BrowserContext, type FrameLocator, type Page, chromium } from "playwright-core";

export const ROOT = resolve(__dirname, "..", "..");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
  // The sign-in stub's certificate is self-signed (MSAL insists on an https authority).
  "--ignore-certificate-errors"];

export interface PagesInfo {
  urls: { org: string; ac: string; stub: string; api: string };
  connection_id: string;
  users: Record<"seller" | "admin" | "ac_admin" | "norole" | "team_seller", string>;
  /** The first seeded contact with an email (the admin pages' conflict and history). */
  contact: Person;
  /** Owned by Sam Seller, already linked, with a marketing history (devtools/pages_seed.py). */
  seller_contact: Person;
  seller_lead: Person;
  /** Owned by a user of another business unit: Sam Seller's Basic-depth role cannot read it. */
  unreadable_contact: Person;
  pages: { seller_pane: string; seller_section: string; seller_lead: string; seller_unreadable: string;
           norole_pane: string; admin_home: string };
}

export interface Person { id: string; email: string; name: string }

export interface Pages { info: PagesInfo; stop: () => Promise<void> }

export async function startPages(extra: string[] = []): Promise<Pages> {
  const python = resolve(ROOT, ".venv", "bin", "python");
  const proc: ChildProcess = spawn(existsSync(python) ? python : "python3", ["-m", "devtools.pages", "--json", ...extra],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => { err += d.toString(); });
  const info = await new Promise<PagesInfo>((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => { fail(new Error(`devtools.pages did not start in time: ${err.slice(-6000)}`)); }, 150_000);
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("ACDS_PAGES "));
      if (line) { clearTimeout(timer); ok(JSON.parse(line.slice("ACDS_PAGES ".length)) as PagesInfo); }
    });
    proc.on("exit", (code) => { clearTimeout(timer); fail(new Error(`devtools.pages exited ${String(code)}: ${err.slice(-6000)}`)); });
  });
  const stop = () => new Promise<void>((done) => {
    if (proc.exitCode !== null) { done(); return; }
    proc.on("exit", () => { done(); });
    proc.kill("SIGTERM");
    setTimeout(() => { proc.kill("SIGKILL"); }, 20_000).unref();
  });
  return { info, stop };
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export async function newContext(browser: Browser, width: number, height: number): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width, height }, locale: "en-GB", timezoneId: "UTC", ignoreHTTPSErrors: true });
}

/** The panel's frame on the host page: the side pane's, or the form section's. */
export function panelFrame(page: Page, where: "pane" | "section"): FrameLocator {
  return page.frameLocator(where === "pane" ? ".side-pane iframe" : ".form-section iframe");
}

/**
 * Signs in the way a person does the first time: silent SSO finds no session, the panel offers
 * "Sign in", the MSAL popup goes to the stub authority, the person continues, the popup closes.
 */
export async function signInThroughPopup(page: Page, frame: FrameLocator): Promise<void> {
  const popupPromise = page.context().waitForEvent("page");
  await frame.getByRole("button", { name: "Sign in" }).click();
  const popup = await popupPromise;
  // Listen before clicking: MSAL may close the popup before the click's promise settles.
  const closed = popup.waitForEvent("close", { timeout: 30_000 });
  await popup.getByRole("button", { name: "Continue" }).click();
  if (!popup.isClosed()) await closed;
}
