/** Component-test helpers for the admin pages: a connection, and the app rendered on a FakeApi. */
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { render } from "@testing-library/react";
import type { FakeApi } from "../test/fakeApi";
import { AdminApp } from "./AdminApp";

export const CONNECTION = {
  connection_id: "contoso", display_name: "Contoso", connected: true, activecampaign_api_url: "https://contoso.api-us1.com",
  activecampaign_api_key: "••••••••9f2a", dynamics_environment_url: "https://contoso.crm.dynamics.com",
  dynamics_auth_kind: "client_secret", tenant_id: "t-1", global_sync_enabled: false, reconnect_required: false,
};

export const ERR = (status: number, code: string, message: string, field: string | null = null, issues: unknown[] = []) =>
  ({ status, body: { error: { code, message, field }, issues } });

export function showAdmin(api: FakeApi, hash = "#/dashboard") {
  window.location.hash = hash;
  return render(<FluentProvider theme={webLightTheme}><AdminApp client={api.client()} /></FluentProvider>);
}

/** One conflict log row as the API gives it. */
export const CONFLICT = { at: "2026-12-01T10:00:00Z", run_id: "r1", entity: "contact", dynamics_id: "c-9", ac_id: "42", field: "telephone1",
  ac_field: "phone", dynamics_value: "+44 1", ac_value: "+44 2", dynamics_time: null, ac_time: null, rule: "newest_wins", winner: "activecampaign" };
