import { Divider, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Subtitle1, makeStyles, mergeClasses,
  tokens } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import { type ApiClient, ApiFailure } from "../api/client";
import type { Entity, Marketing } from "../api/seller-contract";
import { ActionDialog, type Outcome } from "./ActionDialog";
import { MarketingView } from "./MarketingView";
import { Timeline } from "./Timeline";

const useStyles = makeStyles({
  // No gap on the root: a heading drawn for screen readers only and an empty live region must add no space.
  root: { display: "flex", flexDirection: "column", padding: tokens.spacingHorizontalM, minWidth: 0,
          boxSizing: "border-box" },
  header: { display: "flex", flexDirection: "column" },
  rule: { marginBlock: tokens.spacingVerticalM },
  body: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
  title: { margin: 0, overflowWrap: "anywhere" },
  // Still the first heading for screen readers, not drawn: the host (the side pane's header, the form
  // section's label) already shows "ActiveCampaign" above the panel, the form's header the record's name.
  hidden: { position: "absolute", width: "1px", height: "1px", margin: "-1px", padding: 0, overflow: "hidden",
            clipPath: "inset(50%)", whiteSpace: "nowrap", border: 0 },
  outcome: { marginTop: tokens.spacingVerticalS },
  outcomeFirst: { marginBottom: tokens.spacingVerticalM }, // no heading drawn above it: space before the body
  actions: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
  columns: { display: "grid", gap: tokens.spacingHorizontalXL, gridTemplateColumns: "repeat(auto-fit, minmax(280px, 1fr))" },
});

type State =
  | { kind: "loading" }
  | { kind: "no_role"; name: string }
  | { kind: "hidden"; message: string }
  | { kind: "failed"; message: string }
  | { kind: "ready"; marketing: Marketing };

export const NO_ROLE = "The ActiveCampaign panel is for sellers: it needs the ActiveCampaign User security role " +
  "(or ActiveCampaign Admin). Ask your Dynamics administrator to assign it.";
export const NO_RECORD_ACCESS = "You do not have access to this record's marketing information.";
/** The landmark's name, whatever the heading says. */
export const LANDMARK = "ActiveCampaign";

/** The person as ActiveCampaign knows them: their name, else their email; null before there is a contact. */
function personOf(m: Marketing): string | null {
  const c = m.contact;
  if (!c) return null;
  return `${c.first_name} ${c.last_name}`.trim() || c.email;
}

/** The seller's panel for one lead or contact: gated on /me, nothing of a record the user cannot read. */
export function Panel({ client, entity, id, inPane = false }: { client: ApiClient; entity: Entity; id: string;
  inPane?: boolean }) {
  const s = useStyles();
  const [state, setState] = useState<State>({ kind: "loading" });
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [version, setVersion] = useState(0);

  const load = useCallback(async () => {
    try {
      const me = await client.me().catch((e: unknown) => {
        if (e instanceof ApiFailure && e.status === 403) return null; // the API refuses the caller outright
        throw e;
      });
      if (!me?.is_seller) return setState({ kind: "no_role", name: me?.name ?? "" });
      const marketing = await client.marketing(entity, id).catch((e: unknown) => {
        if (e instanceof ApiFailure && e.status === 403) return null; // cannot read this record: show nothing of it
        throw e;
      });
      setState(marketing ? { kind: "ready", marketing } : { kind: "hidden", message: NO_RECORD_ACCESS });
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 404 && e.code === "connection_not_found") {
        return setState({ kind: "failed", message: "This Dynamics environment is not connected to ActiveCampaign " +
          "(or you are not a user of it)." });
      }
      setState({ kind: "failed", message: e instanceof ApiFailure ? e.message : "The panel could not be loaded." });
    }
  }, [client, entity, id]);

  useEffect(() => { void load(); }, [load]);

  const onOutcome = useCallback((o: Outcome) => {
    setOutcome(o);
    if (o.ok) { setVersion((v) => v + 1); void load(); }
  }, [load]);

  const body = (() => {
    switch (state.kind) {
      case "loading":
        return <Spinner label="Loading ActiveCampaign…" />;
      case "no_role":
        return <MessageBar intent="info"><MessageBarBody>{NO_ROLE}</MessageBarBody></MessageBar>;
      case "hidden":
        return <MessageBar intent="warning"><MessageBarBody>{state.message}</MessageBarBody></MessageBar>;
      case "failed":
        return (
          <MessageBar intent="error">
            <MessageBarBody><MessageBarTitle>ActiveCampaign is unavailable</MessageBarTitle>{state.message}</MessageBarBody>
          </MessageBar>
        );
      case "ready": {
        const who = personOf(state.marketing) ?? `this ${entity}`;
        return (
          <>
            <div className={s.actions} role="group" aria-label="Sales actions">
              <ActionDialog kind="automation" client={client} entity={entity} id={id} who={who} onOutcome={onOutcome} />
              <ActionDialog kind="campaign" client={client} entity={entity} id={id} who={who} onOutcome={onOutcome} />
            </div>
            <div className={s.columns}>
              <MarketingView marketing={state.marketing} />
              <Timeline client={client} entity={entity} id={id} version={version} />
            </div>
          </>
        );
      }
    }
  })();

  // In the side pane, whose header says "ActiveCampaign" and which stays open from record to record, the heading
  // names whom the panel is about. In a form (whose header names the record, the section's label the panel), or
  // with no one to name yet (loading, no role, no access, not synced), it is there for screen readers only.
  const person = inPane && state.kind === "ready" ? personOf(state.marketing) : null;
  return (
    <main className={s.root} aria-label={LANDMARK}>
      <div className={s.header}>
        <Subtitle1 as="h1" className={mergeClasses(s.title, person === null && s.hidden)}>
          {person ?? LANDMARK}
        </Subtitle1>
        {/* One live region for outcomes: present from the start so screen readers announce changes. */}
        <div aria-live="polite" role="status" data-testid="outcome">
          {outcome ? (
            <MessageBar intent={outcome.ok ? "success" : "error"} className={person === null ? s.outcomeFirst : s.outcome}>
              <MessageBarBody>{outcome.message}</MessageBarBody>
            </MessageBar>
          ) : null}
        </div>
      </div>
      {person !== null ? <Divider className={s.rule} /> : null}
      <div className={s.body}>{body}</div>
    </main>
  );
}
