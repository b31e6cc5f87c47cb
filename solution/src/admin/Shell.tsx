/**
 * The admin app: one page per hash route (`#/settings`, …), a navigation list, gating on the
 * admin API (a 403 from GET /connection means the caller holds neither System Administrator nor
 * ActiveCampaign Admin), and a guard that asks before leaving a page with unsaved changes.
 */
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Spinner, Tab, TabList,
  Subtitle1, Title2, makeStyles, tokens,
} from "@fluentui/react-components";
import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { AdminApi, type ConnectionView } from "../api/admin";
import { type ApiClient, ApiFailure } from "../api/client";
import { Failure, NARROW_QUERY, messageOf, useMedia } from "./common";

export const NEEDS_ADMIN_ROLE = "You need the ActiveCampaign Admin role (or System Administrator) to use these pages. " +
  "Ask your Dynamics administrator to assign it.";

export const PAGES = [
  { key: "dashboard", label: "Dashboard" },
  { key: "settings", label: "Settings" },
  { key: "users", label: "User Management" },
  { key: "data", label: "Data Configuration" },
  { key: "sync", label: "Sync Settings" },
  { key: "health", label: "Sync health" },
] as const;
export type PageKey = (typeof PAGES)[number]["key"];

const useStyles = makeStyles({
  root: { display: "grid", gridTemplateColumns: "220px 1fr", minHeight: "100vh" },
  rootNarrow: { display: "flex", flexDirection: "column", minHeight: "100vh" },
  nav: { borderRight: `1px solid ${tokens.colorNeutralStroke2}`, padding: tokens.spacingVerticalM,
         backgroundColor: tokens.colorNeutralBackground2, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
  navNarrow: { borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalS}`,
               backgroundColor: tokens.colorNeutralBackground2, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalXS },
  tabsNarrow: { flexWrap: "wrap" },
  // Starts where the small tabs' text does (their padding, SNudge, plus their content's).
  titleNarrow: { margin: 0, paddingInline: `calc(${tokens.spacingHorizontalSNudge} + ${tokens.spacingHorizontalXXS})`,
                 overflowWrap: "anywhere" },
  // As on the desktop: each label starts at its tab's left edge, not mid-way in the space kept for the bold one.
  tabNarrow: { justifyContent: "flex-start", textAlign: "start" },
  // The title starts where the tabs' text does (a tab's padding plus its content's); a tab's text starts at its
  // left edge: the button's centred text otherwise sits mid-way in the space reserved for the bold (selected) label.
  title: { margin: 0, paddingInline: `calc(${tokens.spacingHorizontalMNudge} + ${tokens.spacingHorizontalXXS})`,
           overflowWrap: "anywhere" },
  tabs: { alignSelf: "stretch" },
  tab: { justifyContent: "flex-start", width: "100%", textAlign: "start" },
  main: { padding: tokens.spacingHorizontalXL, minWidth: 0 },
  mainNarrow: { padding: tokens.spacingHorizontalM, minWidth: 0 },
  pad: { padding: tokens.spacingHorizontalXL, maxWidth: "720px", display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
});

export interface AdminContext {
  api: AdminApi;
  connection: ConnectionView | null;
  /** After a connect or disconnect: the shell shows the new state. */
  setConnection: (c: ConnectionView | null) => void;
  /** A page with unsaved changes says so; the shell asks before navigating away. */
  setDirty: (dirty: boolean) => void;
  go: (page: PageKey, query?: string) => void;
  query: URLSearchParams;
}

const Ctx = createContext<AdminContext | null>(null);

export function useAdmin(): AdminContext {
  const c = useContext(Ctx);
  if (!c) throw new Error("useAdmin outside the admin shell");
  return c;
}

function parseHash(hash: string): { page: PageKey; query: URLSearchParams } {
  const [path = "", q = ""] = hash.replace(/^#\/?/, "").split("?");
  const page = PAGES.find((p) => p.key === path)?.key ?? "dashboard";
  return { page, query: new URLSearchParams(q) };
}

type Gate = { kind: "loading" } | { kind: "refused"; message: string } | { kind: "in"; connection: ConnectionView | null };

export function Shell({ client, render }: { client: ApiClient; render: (page: PageKey) => ReactNode }) {
  const s = useStyles();
  const narrow = useMedia(NARROW_QUERY);
  const api = useMemo(() => new AdminApi(client), [client]);
  const [gate, setGate] = useState<Gate>({ kind: "loading" });
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  const [pending, setPending] = useState<string | null>(null);
  const [dirty, setDirtyState] = useState(false);
  // Also kept in a ref, set with the state: a navigation that follows the page's report at once sees it.
  const dirtyNow = useRef(false);
  const setDirty = useCallback((d: boolean) => { dirtyNow.current = d; setDirtyState(d); }, []);
  // Focus a button inside the guard's dialog once it opens. When Fluent's own first-focus finds nothing yet
  // (seen under load) it focuses the dialog surface itself, before Tabster has made that surface a modalizer;
  // Tabster then never activates it and its next pass sets aria-hidden on the dialog (screen readers lose it).
  // A focused element INSIDE the surface activates the modalizer whichever of the two comes first.
  const stayButton = useRef<HTMLButtonElement>(null);
  useEffect(() => { if (pending !== null) stayButton.current?.focus(); }, [pending]);

  useEffect(() => {
    api.connection().then((connection) => setGate({ kind: "in", connection })).catch((e: unknown) => {
      if (e instanceof ApiFailure && e.status === 403) return setGate({ kind: "refused", message: NEEDS_ADMIN_ROLE });
      if (e instanceof ApiFailure && e.status === 404) return setGate({ kind: "in", connection: null });
      setGate({ kind: "refused", message: messageOf(e) });
    });
  }, [api]);

  useEffect(() => {
    const onHash = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    if (!dirty) return;
    const onUnload = (ev: BeforeUnloadEvent) => ev.preventDefault();
    window.addEventListener("beforeunload", onUnload);
    return () => window.removeEventListener("beforeunload", onUnload);
  }, [dirty]);

  const navigate = useCallback((hash: string) => {
    if (dirtyNow.current) { setPending(hash); return; }
    window.location.hash = hash;
    setRoute(parseHash(hash));
  }, []);

  const go = useCallback((page: PageKey, query?: string) => navigate(`#/${page}${query ? `?${query}` : ""}`), [navigate]);
  const setConnection = useCallback((connection: ConnectionView | null) => setGate({ kind: "in", connection }), []);
  const ctx = useMemo<AdminContext | null>(() => gate.kind !== "in" ? null : {
    api, connection: gate.connection, query: route.query, setConnection, setDirty, go,
  }, [api, gate, route.query, setConnection, setDirty, go]);

  if (gate.kind === "loading") return <div className={s.pad}><Spinner label="Loading…" /></div>;
  // ctx holds callbacks that use dirtyNow when called, never during render (the rule cannot tell).
  // eslint-disable-next-line react-hooks/refs
  if (gate.kind === "refused" || !ctx) {
    return (
      <main className={s.pad} aria-labelledby="acds-refused">
        <Title2 as="h1" id="acds-refused">ActiveCampaign</Title2>
        <Failure message={gate.kind === "refused" ? gate.message : ""} />
      </main>
    );
  }
  const page = gate.connection === null ? "settings" : route.page;
  return (
    <Ctx.Provider value={ctx}>
      <div className={narrow ? s.rootNarrow : s.root}>
        <nav className={narrow ? s.navNarrow : s.nav} aria-label="ActiveCampaign">
          <Subtitle1 as="p" className={narrow ? s.titleNarrow : s.title}>ActiveCampaign</Subtitle1>
          <TabList vertical={!narrow} size={narrow ? "small" : "medium"} className={narrow ? s.tabsNarrow : s.tabs}
                   selectedValue={page} onTabSelect={(_, d) => navigate(`#/${String(d.value)}`)}>
            {PAGES.map((p) => (
              <Tab key={p.key} value={p.key} className={narrow ? s.tabNarrow : s.tab}
                   disabled={gate.connection === null && p.key !== "settings"}>{p.label}</Tab>
            ))}
          </TabList>
        </nav>
        <main className={narrow ? s.mainNarrow : s.main} key={page}>{render(page)}</main>
      </div>
      <Dialog open={pending !== null} onOpenChange={(_, d) => { if (!d.open) setPending(null); }}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>Leave without saving?</DialogTitle>
            <DialogContent>This page has changes that are not saved. They are lost if you leave.</DialogContent>
            <DialogActions>
              <Button appearance="primary" ref={stayButton} onClick={() => setPending(null)}>Stay on this page</Button>
              <Button onClick={() => {
                const hash = pending ?? "#/dashboard";
                setDirty(false);
                setPending(null);
                window.location.hash = hash;
                setRoute(parseHash(hash));
              }}>Leave and discard changes</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </Ctx.Provider>
  );
}
