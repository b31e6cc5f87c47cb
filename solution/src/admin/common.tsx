/** Small pieces every admin page uses: loading an answer, showing a failure, the page frame. */
import { MessageBar, MessageBarBody, Spinner, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import { ApiFailure } from "../api/client";

/** Below this width (a side pane, a phone) the navigation goes above the page, its tabs in rows. */
export const NARROW_QUERY = "(max-width: 639.98px)";

/** Whether `query` matches now; follows the window as it resizes (false where there is no matchMedia). */
export function useMedia(query: string): boolean {
  const list = useMemo(() => (typeof window.matchMedia === "function" ? window.matchMedia(query) : null), [query]);
  const [matches, setMatches] = useState(() => list?.matches ?? false);
  useEffect(() => {
    if (!list) return;
    const onChange = () => setMatches(list.matches);
    onChange();
    list.addEventListener("change", onChange);
    return () => list.removeEventListener("change", onChange);
  }, [list]);
  return matches;
}

export const useFrameStyles = makeStyles({
  // Headings lose the browser's margins: the gaps below set the spacing, the same on every page.
  page: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalXL, minWidth: 0, maxWidth: "1040px",
          "& h1, & h2, & h3": { marginBlock: 0 },
          // A heading inside a form or a card, after fields: set apart from what it follows.
          "& h2:not(:first-child), & h3:not(:first-child)": { marginTop: tokens.spacingVerticalM },
          // A cell of several lines (roles, changes) keeps clear of the row's borders.
          "& td": { paddingBlock: tokens.spacingVerticalXS },
          // The tables' layout is fixed: a word longer than its column breaks rather than runs into the next one.
          "& td, & th": { overflowWrap: "break-word" } },
  /** A form of one column of fields: wide enough for a URL, not the whole window. */
  form: { maxWidth: "640px" },
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalM, alignItems: "flex-end" },
  /** A row whose fields may have a hint below: the controls line up at their tops, not the hints' bottoms. */
  rowTop: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalM, alignItems: "flex-start" },
  /** A button beside a field in a rowTop: down by the field's label (Fluent's: its line, XXS padding above and
   * below, XXS margin under it), so that it lines up with the field's box. */
  besideField: { marginTop: `calc(${tokens.lineHeightBase300} + 3 * ${tokens.spacingVerticalXXS})` },
  facts: { display: "grid", gridTemplateColumns: "max-content 1fr", columnGap: tokens.spacingHorizontalM,
           rowGap: tokens.spacingVerticalXS, margin: 0 },
  dd: { margin: 0, overflowWrap: "anywhere" },
});

export function messageOf(e: unknown): string {
  return e instanceof ApiFailure ? e.message : e instanceof Error ? e.message : String(e);
}

export type Loaded<T> = { kind: "loading" } | { kind: "failed"; message: string } | { kind: "ok"; value: T };

/** Runs `load` now and on `reload()`; the latest answer wins. */
export function useLoad<T>(load: () => Promise<T>): [Loaded<T>, () => void, (v: T) => void] {
  const [state, setState] = useState<Loaded<T>>({ kind: "loading" });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let alive = true;
    load().then((value) => { if (alive) setState({ kind: "ok", value }); })
      .catch((e: unknown) => { if (alive) setState({ kind: "failed", message: messageOf(e) }); });
    return () => { alive = false; };
  }, [load, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const set = useCallback((value: T) => setState({ kind: "ok", value }), []);
  return [state, reload, set];
}

export function PageFrame({ title, id, children }: { title: string; id: string; children: ReactNode }) {
  const s = useFrameStyles();
  return (
    <section className={s.page} aria-labelledby={id}>
      <Title3 as="h1" id={id}>{title}</Title3>
      {children}
    </section>
  );
}

export function Failure({ message }: { message: string }) {
  return <div role="alert"><MessageBar intent="error"><MessageBarBody>{message}</MessageBarBody></MessageBar></div>;
}

export function Notice({ intent, children }: { intent: "success" | "warning" | "info" | "error"; children: ReactNode }) {
  return <div role="status"><MessageBar intent={intent}><MessageBarBody>{children}</MessageBarBody></MessageBar></div>;
}

/** Renders the loaded value, or a spinner, or the failure. */
export function Show<T>({ state, label, children }: { state: Loaded<T>; label: string; children: (v: T) => ReactNode }) {
  if (state.kind === "loading") return <Spinner label={label} />;
  if (state.kind === "failed") return <Failure message={state.message} />;
  return <>{children(state.value)}</>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "never";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("en-GB", { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" }) + " UTC";
}
