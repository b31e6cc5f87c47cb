/**
 * The app's settings: environment variables of the solution (schema names under the publisher
 * prefix), read through Xrm.WebApi; a current value overrides the definition's default.
 */
import type { XrmWebApi } from "./xrm";

export const SETTING_NAMES = {
  apiUrl: "acds_ApiUrl",
  connectionId: "acds_ConnectionId",
  clientId: "acds_ApiClientId",
  scope: "acds_ApiScope",
  authority: "acds_Authority",
} as const;

export type AppSettings = { [K in keyof typeof SETTING_NAMES]: string };

export class SettingsMissing extends Error {
  constructor(readonly names: string[]) {
    super(`The ActiveCampaign app is not set up: set the environment variable${names.length > 1 ? "s" : ""} ` +
          `${names.join(", ")} (Solutions → ActiveCampaign → Environment variables).`);
    this.name = "SettingsMissing";
  }
}

export const SETTINGS_QUERY =
  "?$select=schemaname,defaultvalue&$filter=startswith(schemaname,'acds_')" +
  "&$expand=environmentvariabledefinition_environmentvariablevalue($select=value)";

export async function readSettings(webApi: XrmWebApi): Promise<AppSettings> {
  const found = await webApi.retrieveMultipleRecords("environmentvariabledefinition", SETTINGS_QUERY);
  const values = new Map<string, string>();
  for (const row of found.entities) {
    const current = row["environmentvariabledefinition_environmentvariablevalue"];
    const value = Array.isArray(current) && current.length > 0 ? (current[0] as { value?: unknown }).value : undefined;
    const chosen = typeof value === "string" && value.trim() ? value : row["defaultvalue"];
    if (typeof row["schemaname"] === "string" && typeof chosen === "string" && chosen.trim()) {
      values.set(row["schemaname"], chosen.trim());
    }
  }
  const out: Partial<Record<keyof AppSettings, string>> = {};
  const missing: string[] = [];
  for (const [key, schema] of Object.entries(SETTING_NAMES) as [keyof AppSettings, string][]) {
    const v = values.get(schema);
    if (v) out[key] = v;
    else missing.push(schema);
  }
  if (missing.length) throw new SettingsMissing(missing);
  return out as AppSettings;
}
