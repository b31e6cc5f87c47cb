/** Settings: the AC API URL and key (masked once saved), the Dynamics environment, connect, disconnect. */
import { Button, Dropdown, Field, Input, Option, Subtitle2, mergeClasses } from "@fluentui/react-components";
import { useState } from "react";
import type { ConnectRequest } from "../api/admin";
import { ApiFailure } from "../api/client";
import { Failure, Notice, PageFrame, messageOf, useFrameStyles } from "./common";
import { useAdmin } from "./Shell";

const KINDS = ["client_secret", "certificate", "managed_identity", "workload_identity", "default", "static_token"] as const;
type Kind = (typeof KINDS)[number];
const NEEDS_SECRET: readonly string[] = ["client_secret", "certificate", "static_token"];
const NEEDS_CLIENT: readonly string[] = ["client_secret", "certificate"];

type Form = { display_name: string; ac_url: string; ac_key: string; env_url: string; kind: Kind; client_id: string;
              tenant_id: string; secret: string };
type Errors = Partial<Record<"ac_url" | "ac_key" | "env_url" | "kind" | "secret" | "client_id" | "form", string>>;

/** The form field an API error names (`activecampaign_api_key` → the key's input). */
export function fieldOf(apiField: string | null): keyof Errors {
  if (!apiField) return "form";
  if (apiField.startsWith("activecampaign_api_key")) return "ac_key";
  if (apiField.startsWith("activecampaign_api_url")) return "ac_url";
  if (apiField.startsWith("dynamics_environment_url")) return "env_url";
  if (apiField.startsWith("dynamics_auth.client_id")) return "client_id";
  if (apiField.startsWith("dynamics_auth")) return "kind";
  if (apiField.startsWith("dynamics_secret") || apiField.startsWith("dynamics_access_token")) return "secret";
  return "form";
}

export function Settings() {
  const s = useFrameStyles();
  const { api, connection, setConnection } = useAdmin();
  const [form, setForm] = useState<Form>({
    display_name: connection?.display_name ?? "", ac_url: connection?.activecampaign_api_url ?? "", ac_key: "",
    env_url: connection?.dynamics_environment_url ?? "", kind: (connection?.dynamics_auth_kind ?? "client_secret") as Kind,
    client_id: "", tenant_id: "", secret: "",
  });
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const set = (k: keyof Form) => (_: unknown, d: { value: string }) => setForm((f) => ({ ...f, [k]: d.value }));

  async function connect() {
    const missing: Errors = {};
    if (!form.ac_url.trim()) missing.ac_url = "Enter the API URL from ActiveCampaign's Settings › Developer.";
    if (!form.ac_key.trim()) missing.ac_key = connection?.activecampaign_api_key
      ? "Enter the key again to reconnect (the saved key is never shown)." : "Enter the API key.";
    if (!form.env_url.trim()) missing.env_url = "Enter the Dynamics environment URL.";
    setErrors(missing);
    setDone(null);
    if (Object.keys(missing).length) return;
    const body: ConnectRequest = {
      display_name: form.display_name, activecampaign_api_url: form.ac_url.trim(), activecampaign_api_key: form.ac_key.trim(),
      dynamics_environment_url: form.env_url.trim(),
      dynamics_auth: { kind: form.kind, client_id: form.client_id.trim() || null, tenant_id: form.tenant_id.trim() || null },
      dynamics_secret: form.secret ? form.secret : null,
    };
    setBusy(true);
    try {
      const c = await api.connect(body);
      setConnection(c);
      setForm((f) => ({ ...f, ac_key: "", secret: "" }));
      setDone("Connected: both systems accepted the sign-in.");
    } catch (e) {
      setErrors({ [e instanceof ApiFailure ? fieldOf(e.field) : "form"]: messageOf(e) });
    } finally {
      setBusy(false);
    }
  }

  async function disconnect() {
    setBusy(true);
    setDone(null);
    try {
      setConnection(await api.disconnect());
      setDone("Disconnected: the key is removed and the syncs are stopped.");
    } catch (e) {
      setErrors({ form: messageOf(e) });
    } finally {
      setBusy(false);
    }
  }

  const err = (k: keyof Errors) => errors[k] ? { validationState: "error" as const, validationMessage: errors[k] } : {};
  return (
    <PageFrame title="Settings" id="acds-settings">
      <div className={s.section}>
        <Subtitle2 as="h2">Connection</Subtitle2>
        <dl className={s.facts}>
          <dt>Status</dt><dd className={s.dd}>{connection?.connected ? "Connected" : "Not connected"}</dd>
          <dt>Saved API key</dt><dd className={s.dd}>{connection?.activecampaign_api_key ?? "none"}</dd>
        </dl>
      </div>
      <form className={mergeClasses(s.section, s.form)} aria-labelledby="acds-connect" onSubmit={(e) => { e.preventDefault(); void connect(); }}>
        <Subtitle2 as="h2" id="acds-connect">ActiveCampaign</Subtitle2>
        <Field label="Connection name"><Input value={form.display_name} onChange={set("display_name")} /></Field>
        <Field label="API URL" required {...err("ac_url")}>
          <Input value={form.ac_url} onChange={set("ac_url")} placeholder="https://youraccount.api-us1.com" />
        </Field>
        <Field label="API key" required {...err("ac_key")}
               hint={connection?.activecampaign_api_key ? `Saved: ${connection.activecampaign_api_key}. Enter it again to reconnect.` : undefined}>
          <Input type="password" autoComplete="off" value={form.ac_key} onChange={set("ac_key")} />
        </Field>
        <Subtitle2 as="h2">Dynamics 365</Subtitle2>
        <Field label="Environment URL" required {...err("env_url")}>
          <Input value={form.env_url} onChange={set("env_url")} placeholder="https://yourorg.crm.dynamics.com" />
        </Field>
        <Field label="How the sync signs in to Dynamics" {...err("kind")}>
          <Dropdown value={form.kind} selectedOptions={[form.kind]}
                    onOptionSelect={(_, d) => setForm((f) => ({ ...f, kind: (d.optionValue ?? f.kind) as Kind }))}>
            {KINDS.map((k) => <Option key={k} value={k}>{k}</Option>)}
          </Dropdown>
        </Field>
        {NEEDS_CLIENT.includes(form.kind) ? (
          <div className={s.row}>
            <Field label="App (client) id" {...err("client_id")}><Input value={form.client_id} onChange={set("client_id")} /></Field>
            <Field label="Tenant id"><Input value={form.tenant_id} onChange={set("tenant_id")} /></Field>
          </div>
        ) : null}
        {NEEDS_SECRET.includes(form.kind) ? (
          <Field label="Secret" {...err("secret")} hint="Leave empty to keep the one saved for this environment and sign-in.">
            <Input type="password" autoComplete="off" value={form.secret} onChange={set("secret")} />
          </Field>
        ) : null}
        {errors.form ? <Failure message={errors.form} /> : null}
        {done ? <Notice intent="success">{done}</Notice> : null}
        <div className={s.row}>
          <Button appearance="primary" type="submit" disabled={busy}>{busy ? "Checking…" : "Connect"}</Button>
          {connection?.connected ? <Button onClick={() => void disconnect()} disabled={busy}>Disconnect</Button> : null}
        </div>
      </form>
    </PageFrame>
  );
}
