/** From the host page to a signed-in API client: Xrm, the record, the settings, the user's login hint. */
import { ApiClient } from "../api/client";
import type { Entity } from "../api/seller-contract";
import { SignIn } from "../auth/signin";
import { recordFromLocation } from "../xrm/record";
import { type AppSettings, SettingsMissing, readSettings } from "../xrm/settings";
import { type XrmNamespace, bareGuid } from "../xrm/xrm";

export const REDIRECT_PAGE = "/WebResources/acds_/auth/redirect.html";

export interface Booted {
  entity: Entity;
  id: string;
  /** Opened by the form command in the side pane (see `recordFromLocation`). */
  inPane: boolean;
  settings: AppSettings;
  signIn: SignIn;
  client: ApiClient;
}

export class BootProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BootProblem";
  }
}

export async function loginHintOf(xrm: XrmNamespace): Promise<string> {
  const userId = bareGuid(xrm.Utility.getGlobalContext().userSettings.userId);
  const user = await xrm.WebApi.retrieveRecord("systemuser", userId, "?$select=domainname");
  const name = user["domainname"];
  if (typeof name !== "string" || !name) throw new BootProblem("Your Dynamics user has no sign-in name (domainname).");
  return name;
}

export interface BootOptions {
  xrm: XrmNamespace | null;
  search: string;
  /** The record is optional for pages that are not about one (the app's home page). */
  needsRecord?: boolean;
  fetch?: typeof fetch;
}

export async function boot(o: BootOptions): Promise<Booted> {
  if (!o.xrm) throw new BootProblem("This page runs inside Dynamics 365: open it from a lead or contact.");
  const record = recordFromLocation(o.search);
  if (!record && o.needsRecord !== false) {
    throw new BootProblem("Open this panel from a lead or a contact (its command “ActiveCampaign”).");
  }
  let settings: AppSettings;
  try {
    settings = await readSettings(o.xrm.WebApi);
  } catch (e) {
    if (e instanceof SettingsMissing) throw new BootProblem(e.message);
    throw new BootProblem(`The app's settings could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const loginHint = await loginHintOf(o.xrm);
  const clientUrl = o.xrm.Utility.getGlobalContext().getClientUrl().replace(/\/+$/, "");
  const signIn = new SignIn({ clientId: settings.clientId, authority: settings.authority, scope: settings.scope,
                              redirectUri: `${clientUrl}${REDIRECT_PAGE}`, loginHint });
  const client = new ApiClient({ baseUrl: settings.apiUrl, connectionId: settings.connectionId,
                                 getToken: () => signIn.tokenSilently(), fetch: o.fetch });
  return { entity: record?.entity ?? "contact", id: record?.id ?? "", inPane: record?.inPane ?? false, settings,
           signIn, client };
}
