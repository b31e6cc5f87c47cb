/** Dashboard: connection, global sync, last and next run per entity and direction, initial-sync progress
 * (live while it runs), API calls per side, errors and conflicts with links, "Sync now". */
import {
  Button, Link, ProgressBar, Subtitle2, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text,
} from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import type { EntityProgress, StatusView } from "../api/admin";
import { Failure, Notice, PageFrame, Show, messageOf, useFrameStyles, useLoad, when } from "./common";
import { useAdmin } from "./Shell";
import { initialSyncText } from "./SyncSettings";

export const POLL_MS = 2000;
const HOURS: Record<string, number> = { "1h": 1, "2h": 2, "4h": 4, "6h": 6, "8h": 8, "12h": 12, daily: 24 };
const DIRECTION: Record<string, string> = {
  bidirectional: "both ways", push: "Dynamics → ActiveCampaign", pull: "ActiveCampaign → Dynamics",
};

export function running(p: EntityProgress): boolean {
  return p.phase !== "delta" && p.finished_at === null;
}

/** Worth watching: a read runs, records wait for ActiveCampaign to process their import, or global sync is on
 * and the initial sync has not settled (no cursor yet, or a first read done while its follow-up pass is to come). */
export function unsettled(st: StatusView): boolean {
  if (st.progress.some(running) || st.awaiting_import > 0) return true;
  return st.global_enabled && (st.progress.length === 0 || st.progress.some((p) => p.phase !== "delta"));
}

/** The next scheduled pass: the last one's start plus the frequency (when global sync is on). */
export function nextRun(st: StatusView): string {
  if (!st.global_enabled) return "not scheduled (global sync is off)";
  const last = st.last_runs[0]?.started_at;
  if (!last) return "at the next timer tick";
  return when(new Date(new Date(last).getTime() + (HOURS[st.frequency] ?? 1) * 3600_000).toISOString());
}

/** "contact: 58 pushed, 2 unchanged" from a run's counts per entity and outcome. */
export function countsOf(counts: Record<string, Record<string, number>>): string {
  return Object.entries(counts).map(([entity, c]) =>
    `${entity}: ${Object.entries(c).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ") || "nothing"}`)
    .join("; ") || "nothing";
}

function eta(seconds: number | null): string {
  if (seconds === null) return "";
  if (seconds < 90) return `about ${Math.round(seconds)} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

function ProgressRow({ p }: { p: EntityProgress }) {
  const pct = p.percent ?? 0;
  const label = `${p.entity} (${p.side === "dynamics" ? "from Dynamics" : "from ActiveCampaign"})`;
  return (
    <TableRow>
      <TableCell>{label}</TableCell>
      <TableCell>
        <ProgressBar value={pct / 100} thickness="large" aria-label={`${label} progress`} />
      </TableCell>
      <TableCell>
        {p.done}{p.total !== null ? ` / ${p.total}` : ""} · {p.percent !== null ? `${p.percent} %` : "counting"}
        {running(p) && p.eta_seconds !== null ? ` · ${eta(p.eta_seconds)}` : ""}
        {p.phase === "delta" ? " · done" : ""}
      </TableCell>
    </TableRow>
  );
}

export function Dashboard() {
  const s = useFrameStyles();
  const { api, connection, go } = useAdmin();
  const load = useCallback(async () => {
    const [st, conflicts] = await Promise.all([api.status(), api.conflicts()]);
    return { st, conflicts: conflicts.items.length, more: conflicts.next_cursor !== null };
  }, [api]);
  const [state, reload] = useLoad(load);
  const [queued, setQueued] = useState<{ ok: boolean; message: string } | null>(null);
  const live = state.kind === "ok" && state.value.st.progress.some(running);
  const watch = state.kind === "ok" && unsettled(state.value.st);

  useEffect(() => {
    if (!watch) return;
    const t = setInterval(reload, POLL_MS);
    return () => clearInterval(t);
  }, [watch, reload]);

  async function syncNow() {
    try {
      const r = await api.syncNow();
      setQueued({ ok: true, message: r.queued ? `A pass is queued (${when(r.requested_at)}).` : "A pass is already pending." });
      reload();
    } catch (e) { setQueued({ ok: false, message: messageOf(e) }); }
  }

  return (
    <PageFrame title="Dashboard" id="acds-dashboard">
      <Show state={state} label="Loading the sync status…">
        {({ st, conflicts, more }) => (
          <>
            <dl className={s.facts}>
              <dt>Connection</dt><dd className={s.dd}>{st.connected ? "Connected" : "Not connected"}</dd>
              <dt>ActiveCampaign</dt><dd className={s.dd}>{connection?.activecampaign_api_url ?? ""}</dd>
              <dt>Global sync</dt><dd className={s.dd}>{st.global_enabled ? "On" : "Off"} (every {st.frequency === "daily" ? "day" : st.frequency})</dd>
              <dt>Next run</dt><dd className={s.dd}>{nextRun(st)}</dd>
              <dt>API calls, last 24 h</dt>
              <dd className={s.dd}>ActiveCampaign {st.api_calls_24h["activecampaign"] ?? 0} · Dynamics {st.api_calls_24h["dynamics"] ?? 0}</dd>
              <dt>Record errors</dt>
              <dd className={s.dd}><Link onClick={() => go("health")}>{st.open_errors} open</Link></dd>
              <dt>Conflicts</dt>
              <dd className={s.dd}><Link onClick={() => go("health", "tab=conflicts")}>{conflicts}{more ? "+" : ""} logged</Link></dd>
            </dl>
            <div className={s.row}>
              <Button appearance="primary" onClick={() => void syncNow()} disabled={!st.global_enabled}>Sync now</Button>
              {!st.global_enabled ? <Text>Turn global sync on in Sync Settings first.</Text> : null}
            </div>
            {queued ? (queued.ok ? <Notice intent="success">{queued.message}</Notice> : <Failure message={queued.message} />) : null}
            <section className={s.section} aria-labelledby="acds-entities">
              <Subtitle2 as="h2" id="acds-entities">Entities</Subtitle2>
              <Table aria-labelledby="acds-entities" size="small">
                <TableHeader><TableRow>
                  <TableHeaderCell style={{ width: "18%" }}>Entity</TableHeaderCell>
                  <TableHeaderCell style={{ width: "32%" }}>Direction</TableHeaderCell>
                  <TableHeaderCell>Last successful run</TableHeaderCell><TableHeaderCell>Next run</TableHeaderCell>
                </TableRow></TableHeader>
                <TableBody>
                  {Object.entries(st.directions ?? {}).map(([entity, d]) => (
                    <TableRow key={entity}>
                      <TableCell>{entity}</TableCell><TableCell>{DIRECTION[d] ?? d}</TableCell>
                      <TableCell>{when(st.last_success[entity] ?? null)}</TableCell><TableCell>{nextRun(st)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </section>
            <section className={s.section} aria-labelledby="acds-progress">
              <Subtitle2 as="h2" id="acds-progress">Initial sync {live ? "(running)" : ""}</Subtitle2>
              {st.progress.length ? (
                <Table aria-labelledby="acds-progress" size="small">
                  <TableHeader><TableRow>
                    <TableHeaderCell>Entity</TableHeaderCell><TableHeaderCell>Progress</TableHeaderCell><TableHeaderCell>Done</TableHeaderCell>
                  </TableRow></TableHeader>
                  <TableBody>{st.progress.map((p) => <ProgressRow key={`${p.entity}-${p.side}`} p={p} />)}</TableBody>
                </Table>
              ) : <Text>{initialSyncText("not_started", st.global_enabled)}</Text>}
              {st.awaiting_import > 0 ? (
                <Text role="status">
                  {st.awaiting_import} {st.awaiting_import === 1 ? "record was" : "records were"} sent to ActiveCampaign in bulk
                  imports it has not finished processing: they appear in ActiveCampaign once it has.
                </Text>
              ) : null}
            </section>
            <section className={s.section} aria-labelledby="acds-runs">
              <Subtitle2 as="h2" id="acds-runs">Recent passes</Subtitle2>
              {st.last_runs.length ? (
                <Table aria-labelledby="acds-runs" size="small">
                  <TableHeader><TableRow>
                    {/* The counts are the longest text: they get the widest column. */}
                    <TableHeaderCell style={{ width: "22%" }}>Started</TableHeaderCell><TableHeaderCell style={{ width: "14%" }}>Why</TableHeaderCell>
                    <TableHeaderCell style={{ width: "18%" }}>Outcome</TableHeaderCell><TableHeaderCell>Records</TableHeaderCell>
                  </TableRow></TableHeader>
                  <TableBody>
                    {st.last_runs.slice(0, 5).map((r) => (
                      <TableRow key={r.run_id}>
                        <TableCell>{when(r.started_at)}</TableCell><TableCell>{r.reason.replace(/_/g, " ")}</TableCell>
                        <TableCell>{r.status}{r.message ? `: ${r.message}` : ""}</TableCell>
                        <TableCell>{countsOf(r.counts)}</TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              ) : <Text>No pass has run yet.</Text>}
            </section>
          </>
        )}
      </Show>
    </PageFrame>
  );
}
