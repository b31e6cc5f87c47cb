import { MessageBar, MessageBarBody, Spinner, Subtitle2, Text, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { type ApiClient, ApiFailure } from "../api/client";
import type { ConnectionView } from "../api/generated";

const useStyles = makeStyles({
  root: { padding: tokens.spacingHorizontalL, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM,
          maxWidth: "720px" },
  facts: { display: "grid", gridTemplateColumns: "max-content 1fr", columnGap: tokens.spacingHorizontalM,
           rowGap: tokens.spacingVerticalXS, margin: 0 },
  dd: { margin: 0, overflowWrap: "anywhere" },
});

export const NEEDS_ADMIN = "This page needs the ActiveCampaign Admin (or System Administrator) security role.";

type State = { kind: "loading" } | { kind: "ok"; c: ConnectionView } | { kind: "refused"; message: string };

/** The app's home page: the connection as the admin API reports it (the admin pages build on this). */
export function Home({ client }: { client: ApiClient }) {
  const s = useStyles();
  const [state, setState] = useState<State>({ kind: "loading" });
  useEffect(() => {
    client.connection().then((c) => setState({ kind: "ok", c })).catch((e: unknown) => {
      if (!(e instanceof ApiFailure)) return setState({ kind: "refused", message: String(e) });
      const message = e.status === 403 ? NEEDS_ADMIN
        : e.status === 401 ? `The sync service did not accept your sign-in: ${e.message}`
        : e.status === 404 ? "This Dynamics environment has no ActiveCampaign connection yet (or you are not a user of it)."
        : e.message;
      setState({ kind: "refused", message });
    });
  }, [client]);
  return (
    <main className={s.root} aria-labelledby="acds-home">
      <Title3 as="h1" id="acds-home">ActiveCampaign</Title3>
      {state.kind === "loading" ? <Spinner label="Loading the connection…" /> : null}
      {state.kind === "refused" ? (
        <MessageBar intent="warning"><MessageBarBody>{state.message}</MessageBarBody></MessageBar>
      ) : null}
      {state.kind === "ok" ? (
        <section aria-labelledby="acds-conn">
          <Subtitle2 as="h2" id="acds-conn">Connection</Subtitle2>
          <dl className={s.facts}>
            <dt>Name</dt><dd className={s.dd}>{state.c.display_name}</dd>
            <dt>Status</dt><dd className={s.dd}>{state.c.connected ? "Connected" : "Not connected"}</dd>
            <dt>ActiveCampaign</dt><dd className={s.dd}>{state.c.activecampaign_api_url}</dd>
            <dt>API key</dt><dd className={s.dd}>{state.c.activecampaign_api_key ?? "not set"}</dd>
            <dt>Global sync</dt><dd className={s.dd}>{state.c.global_sync_enabled ? "On" : "Off"}</dd>
          </dl>
          <Text size={200}>Setup pages (settings, users, data configuration) follow in the next release.</Text>
        </section>
      ) : null}
    </main>
  );
}
