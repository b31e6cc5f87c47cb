/** The three views of Sync health. */
import {
  Button, Dropdown, Field, Input, Option, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text,
  makeStyles,
} from "@fluentui/react-components";
import { useCallback, useState } from "react";
import type { ConflictView, EntityParam, ErrorView, RecordHistory } from "../api/admin";
import { Failure, Notice, Show, messageOf, useFrameStyles, useLoad, when } from "./common";
import { useAdmin } from "./Shell";

const ENTITIES: EntityParam[] = ["contact", "lead", "account", "opportunity"];
const ANY = "any";
const SIDE: Record<string, string> = { dynamics: "Dynamics", activecampaign: "ActiveCampaign" };
const show = (v: unknown) => (v === null || v === undefined || v === "" ? "(empty)" : typeof v === "string" ? v : JSON.stringify(v));

function Pick({ label, value, options, onChange }: { label: string; value: string; options: { value: string; label: string }[]; onChange: (v: string) => void }) {
  return (
    <Field label={label}>
      <Dropdown value={options.find((o) => o.value === value)?.label ?? value} selectedOptions={[value]}
                onOptionSelect={(_, d) => onChange(d.optionValue ?? value)}>
        {options.map((o) => <Option key={o.value} value={o.value}>{o.label}</Option>)}
      </Dropdown>
    </Field>
  );
}
// Column widths (the table's layout is fixed, so without them every column gets the same share): the short
// facts narrow, the free text the rest. Shares, so that they hold in a side pane as on a desktop.
const useStyles = makeStyles({
  recordId: { width: "40ch", maxWidth: "100%" }, // a GUID whole
  at: { width: "20%" },
  when: { width: "16%" },
  narrowCol: { width: "10%" },
  direction: { width: "22%" },
  record: { width: "28%" },
});

const entityOptions = [{ value: ANY, label: "Any entity" }, ...ENTITIES.map((e) => ({ value: e, label: e }))];

export function Errors({ openHistory }: { openHistory: (entity: string, id: string) => void }) {
  const s = useFrameStyles();
  const w = useStyles();
  const { api } = useAdmin();
  const [entity, setEntity] = useState(ANY);
  const [side, setSide] = useState(ANY);
  const [code, setCode] = useState("");
  const filter = { entity: entity === ANY ? undefined : entity, side: side === ANY ? undefined : side, code: code.trim() || undefined };
  const key = JSON.stringify(filter);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the filter's value, not its identity
  const [state, reload] = useLoad(useCallback(() => api.errors(filter), [api, key]));
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);

  async function retry(e: ErrorView | null) {
    try {
      const r = await api.retry(e ? { entity: e.entity, side: e.side, record_id: e.record_id }
        : { entity: (filter.entity ?? null) as EntityParam | null, side: (filter.side ?? null) as ErrorView["side"] | null, record_id: null });
      setOutcome({ ok: true, message: `${r.scheduled} record(s) will be retried in the next pass.` });
      reload();
    } catch (x) { setOutcome({ ok: false, message: messageOf(x) }); }
  }

  return (
    <div className={s.section}>
      <div className={s.row}>
        <Pick label="Entity" value={entity} options={entityOptions} onChange={setEntity} />
        <Pick label="Side" value={side} onChange={setSide}
              options={[{ value: ANY, label: "Either side" }, { value: "dynamics", label: "Dynamics" }, { value: "activecampaign", label: "ActiveCampaign" }]} />
        <Field label="Error code"><Input value={code} onChange={(_, d) => setCode(d.value)} /></Field>
        <Button onClick={() => void retry(null)}>Retry all shown</Button>
      </div>
      {outcome ? (outcome.ok ? <Notice intent="success">{outcome.message}</Notice> : <Failure message={outcome.message} />) : null}
      <Show state={state} label="Loading the record errors…">
        {(list) => list.length ? (
          <Table size="small" aria-label="Record errors">
            <TableHeader><TableRow>
              <TableHeaderCell className={w.record}>Record</TableHeaderCell><TableHeaderCell>Error</TableHeaderCell>
              <TableHeaderCell className={w.narrowCol}>Attempts</TableHeaderCell><TableHeaderCell className={w.at}>Next retry</TableHeaderCell>
              <TableHeaderCell className={w.at}>Actions</TableHeaderCell>
            </TableRow></TableHeader>
            <TableBody>
              {list.map((e) => (
                <TableRow key={`${e.entity}-${e.side}-${e.record_id}`}>
                  <TableCell>{e.entity} {e.record_id} ({SIDE[e.side] ?? e.side})</TableCell>
                  <TableCell><strong>{e.code}</strong>: {e.cause}</TableCell>
                  <TableCell>{e.attempts}</TableCell>
                  <TableCell>{e.retriable ? when(e.next_retry) : "not retried on its own"}</TableCell>
                  <TableCell>
                    <Button size="small" onClick={() => void retry(e)} aria-label={`Retry ${e.entity} ${e.record_id}`}>Retry</Button>
                    {e.side === "dynamics" ? (
                      <Button size="small" appearance="subtle" onClick={() => openHistory(e.entity, e.record_id)}
                              aria-label={`History of ${e.entity} ${e.record_id}`}>History</Button>
                    ) : null}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : <Text>No record errors{entity !== ANY || side !== ANY || code ? " match the filter" : ""}.</Text>}
      </Show>
    </div>
  );
}

export function Conflicts({ openHistory }: { openHistory: (entity: string, id: string) => void }) {
  const s = useFrameStyles();
  const w = useStyles();
  const { api } = useAdmin();
  const [entity, setEntity] = useState(ANY);
  const [pages, setPages] = useState<ConflictView[]>([]);
  const load = useCallback(async () => {
    setPages([]);
    return api.conflicts({ entity: entity === ANY ? undefined : entity });
  }, [api, entity]);
  const [state] = useLoad(load);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const cursor = next === undefined && state.kind === "ok" ? state.value.next_cursor : next;

  async function more() {
    if (!cursor) return;
    const p = await api.conflicts({ entity: entity === ANY ? undefined : entity, cursor });
    setPages((x) => [...x, ...p.items]);
    setNext(p.next_cursor);
  }

  return (
    <div className={s.section}>
      <div className={s.row}><Pick label="Entity" value={entity} options={entityOptions} onChange={(v) => { setEntity(v); setNext(undefined); }} /></div>
      <Show state={state} label="Loading the conflict log…">
        {(first) => {
          const items = [...first.items, ...pages];
          return items.length ? (
            <>
              <Table size="small" aria-label="Conflict log">
                <TableHeader><TableRow>
                  <TableHeaderCell className={w.when}>When</TableHeaderCell><TableHeaderCell>Record and field</TableHeaderCell>
                  <TableHeaderCell className={w.when}>Dynamics value</TableHeaderCell><TableHeaderCell className={w.when}>ActiveCampaign value</TableHeaderCell>
                  <TableHeaderCell className={w.when}>Rule and winner</TableHeaderCell><TableHeaderCell className={w.narrowCol}>Record</TableHeaderCell>
                </TableRow></TableHeader>
                <TableBody>
                  {items.map((c) => (
                    <TableRow key={`${c.run_id}-${c.entity}-${c.dynamics_id}-${c.field}`}>
                      <TableCell>{when(c.at)}</TableCell>
                      <TableCell>{c.entity} {c.dynamics_id}: {c.field}{c.ac_field ? ` ↔ ${c.ac_field}` : ""}</TableCell>
                      <TableCell>{show(c.dynamics_value)} ({when(c.dynamics_time)})</TableCell>
                      <TableCell>{show(c.ac_value)} ({when(c.ac_time)})</TableCell>
                      <TableCell>{c.rule.replace(/_/g, " ")}: {SIDE[c.winner] ?? c.winner} kept</TableCell>
                      <TableCell>
                        <Button size="small" onClick={() => openHistory(c.entity, c.dynamics_id)}
                                aria-label={`History of ${c.entity} ${c.dynamics_id}`}>History</Button>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
              {cursor ? <Button onClick={() => void more()}>Show older conflicts</Button> : null}
            </>
          ) : <Text>No conflicts logged.</Text>;
        }}
      </Show>
    </div>
  );
}

export function History({ start }: { start: { entity: string; id: string } }) {
  const s = useFrameStyles();
  const w = useStyles();
  const { api } = useAdmin();
  const [entity, setEntity] = useState(start.entity);
  const [id, setId] = useState(start.id);
  const [asked, setAsked] = useState(start.id ? start : null);
  const load = useCallback((): Promise<RecordHistory | null> =>
    asked ? api.history(asked.entity as EntityParam, asked.id.trim()) : Promise.resolve(null), [api, asked]);
  const [state] = useLoad(load);
  return (
    <div className={s.section}>
      <form className={s.row} onSubmit={(e) => { e.preventDefault(); setAsked({ entity, id }); }}>
        <Pick label="Entity" value={entity} options={ENTITIES.map((e) => ({ value: e, label: e }))} onChange={setEntity} />
        <Field label="Dynamics record id"><Input className={w.recordId} value={id} onChange={(_, d) => setId(d.value)} /></Field>
        <Button type="submit" appearance="primary" disabled={!id.trim()}>Show history</Button>
      </form>
      <Show state={state} label="Loading the record's history…">
        {(h) => h === null ? <Text>Enter a record id, or open History from an error or a conflict.</Text> : (
          <>
            <Text>{h.entity} {h.dynamics_id}{h.email ? ` (${h.email})` : ""}{h.ac_id ? ` · ActiveCampaign ${h.ac_id}` : " · not linked yet"}</Text>
            {h.items.length ? (
              <Table size="small" aria-label="Record history">
                <TableHeader><TableRow>
                  <TableHeaderCell className={w.at}>When</TableHeaderCell><TableHeaderCell className={w.direction}>Direction</TableHeaderCell>
                  <TableHeaderCell className={w.narrowCol}>Why</TableHeaderCell><TableHeaderCell>Changes</TableHeaderCell>
                </TableRow></TableHeader>
                <TableBody>
                  {h.items.map((x, i) => (
                    <TableRow key={`${x.run_id}-${i}`}>
                      <TableCell>{when(x.at)}</TableCell>
                      <TableCell>{x.direction === "push" ? "Dynamics → ActiveCampaign" : "ActiveCampaign → Dynamics"}</TableCell>
                      <TableCell>{x.why}</TableCell>
                      <TableCell>{x.changes.map((c) => `${c.field}: ${show(c.from)} → ${show(c.to)}`).join("; ") || "no field changed"}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            ) : <Text>Nothing synced for this record yet.</Text>}
          </>
        )}
      </Show>
    </div>
  );
}
