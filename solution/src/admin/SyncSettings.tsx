/** Sync Settings: the global toggle, the initial sync's state, the job frequency. */
import { Button, Field, Radio, RadioGroup, Switch, Text } from "@fluentui/react-components";
import { useCallback, useState } from "react";
import type { Frequency, SyncSettingsView } from "../api/admin";
import { Failure, Notice, PageFrame, Show, messageOf, useFrameStyles, useLoad } from "./common";
import { useAdmin } from "./Shell";

export const FREQUENCIES: { value: Frequency; label: string }[] = [
  { value: "1h", label: "Every hour" }, { value: "2h", label: "Every 2 hours" }, { value: "4h", label: "Every 4 hours" },
  { value: "6h", label: "Every 6 hours" }, { value: "8h", label: "Every 8 hours" }, { value: "12h", label: "Every 12 hours" },
  { value: "daily", label: "Daily" },
];
const INITIAL: Record<SyncSettingsView["initial_sync"], string> = {
  not_started: "Not started: it starts when global sync is turned on.",
  running: "Running: the Dashboard shows its progress.",
  done: "Done: every enabled entity has been read once.",
};

/** What the initial sync's state means to an admin (not started with global sync on: no pass has run yet). */
export function initialSyncText(state: SyncSettingsView["initial_sync"], globalOn: boolean): string {
  return state === "not_started" && globalOn ? "Not started yet: it starts with the next pass." : INITIAL[state];
}

function Form({ view, onSaved }: { view: SyncSettingsView; onSaved: (v: SyncSettingsView) => void }) {
  const s = useFrameStyles();
  const { api, go } = useAdmin();
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function put(body: { global_enabled?: boolean; frequency?: Frequency }, message: string) {
    setBusy(true); setOutcome(null);
    try { onSaved(await api.saveSyncSettings(body)); setOutcome({ ok: true, message }); }
    catch (e) { setOutcome({ ok: false, message: messageOf(e) }); }
    finally { setBusy(false); }
  }

  return (
    <>
      <Switch checked={view.global_enabled} disabled={busy} label="Global sync"
              onChange={(_, d) => void put({ global_enabled: d.checked },
                d.checked ? "Global sync is on: the initial sync starts with the next pass." : "Global sync is off: no pass runs.")} />
      <div className={s.section}>
        <Text weight="semibold">Initial sync</Text>
        <Text>{initialSyncText(view.initial_sync, view.global_enabled)}</Text>
        {view.initial_sync === "running" ? <Button onClick={() => go("dashboard")}>See the progress</Button> : null}
      </div>
      <Field label="How often the sync runs">
        <RadioGroup value={view.frequency} disabled={busy}
                    onChange={(_, d) => void put({ frequency: d.value as Frequency }, `The sync now runs ${FREQUENCIES.find((f) => f.value === d.value)?.label.toLowerCase() ?? d.value}.`)}>
          {FREQUENCIES.map((f) => <Radio key={f.value} value={f.value} label={f.label} />)}
        </RadioGroup>
      </Field>
      {outcome ? (outcome.ok ? <Notice intent="success">{outcome.message}</Notice> : <Failure message={outcome.message} />) : null}
    </>
  );
}

export function SyncSettings() {
  const { api } = useAdmin();
  const [state, , set] = useLoad(useCallback(() => api.syncSettings(), [api]));
  return (
    <PageFrame title="Sync Settings" id="acds-sync">
      <Show state={state} label="Loading the sync settings…">{(v) => <Form view={v} onSaved={set} />}</Show>
    </PageFrame>
  );
}
