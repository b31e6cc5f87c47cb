import { Divider, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import { type ApiClient, ApiFailure } from "../api/client";
import type { Entity, Marketing } from "../api/seller-contract";
import { ActionDialog, type Outcome } from "./ActionDialog";
import { MarketingView } from "./MarketingView";
import { Timeline } from "./Timeline";

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM, padding: tokens.spacingHorizontalM,
          minWidth: 0, boxSizing: "border-box" },
  // The heading and the (usually empty) live region as one flex item: an empty region adds no gap.
  header: { display: "flex", flexDirection: "column" },
  outcome: { marginTop: tokens.spacingVerticalS },
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

/** The seller's panel for one lead or contact: gated on /me, nothing of a record the user cannot read. */
export function Panel({ client, entity, id }: { client: ApiClient; entity: Entity; id: string }) {
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
        const c = state.marketing.contact;
        const who = c && (c.first_name || c.last_name) ? `${c.first_name} ${c.last_name}`.trim()
          : c?.email ?? `this ${entity}`;
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

  return (
    <main className={s.root} aria-labelledby="acds-title">
      <div className={s.header}>
        <Title3 as="h1" id="acds-title">ActiveCampaign</Title3>
        {/* One live region for outcomes: present from the start so screen readers announce changes. */}
        <div aria-live="polite" role="status" data-testid="outcome">
          {outcome ? (
            <MessageBar intent={outcome.ok ? "success" : "error"} className={s.outcome}>
              <MessageBarBody>{outcome.message}</MessageBarBody>
            </MessageBar>
          ) : null}
        </div>
      </div>
      <Divider />
      {body}
    </main>
  );
}
