import { Button, Link, MessageBar, MessageBarBody, Spinner, Subtitle2, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import { type ApiClient, ApiFailure } from "../api/client";
import type { Activity, Entity } from "../api/seller-contract";
import { ACTIVITY_LABELS, when } from "./format";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  heading: { margin: 0 },
  list: { listStyleType: "none", padding: 0, margin: 0, display: "flex", flexDirection: "column",
          gap: tokens.spacingVerticalS },
  item: { borderLeft: `${tokens.strokeWidthThick} solid ${tokens.colorBrandStroke1}`,
          paddingLeft: tokens.spacingHorizontalS, display: "flex", flexDirection: "column", overflowWrap: "anywhere" },
  meta: { color: tokens.colorNeutralForeground2 },
});

export const PAGE_SIZE = 20;

/** An item's title as shown: a visited page without its scheme (the label already says it is a site visit). */
function shown(a: Activity): string {
  return a.type === "site_visit" ? a.title.replace(/^https?:\/\//, "") : a.title;
}

/** The person's marketing activity, newest first, a page at a time. `version` changes reload it. */
export function Timeline({ client, entity, id, version }: { client: ApiClient; entity: Entity; id: string;
  version: number }) {
  const s = useStyles();
  const [items, setItems] = useState<Activity[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [partial, setPartial] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (from: string | null, replace: boolean) => {
    setLoading(true);
    setError(null);
    try {
      const page = await client.activities(entity, id, from, PAGE_SIZE);
      setItems((prev) => (replace ? page.items : [...prev, ...page.items]));
      setCursor(page.next_cursor);
      setPartial((prev) => (replace ? page.partial : prev || page.partial));
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : "The timeline could not be loaded.");
    } finally {
      setLoading(false);
    }
  }, [client, entity, id]);

  useEffect(() => {
    void load(null, true);
  }, [load, version]);

  return (
    <section aria-labelledby="acds-timeline" className={s.section} aria-busy={loading}>
      <Subtitle2 as="h2" id="acds-timeline" className={s.heading}>Timeline</Subtitle2>
      {items.length === 0 && !loading && !error ? <Text>No marketing activity yet.</Text> : null}
      <ol className={s.list} aria-label="Marketing activity, newest first">
        {items.map((a, i) => (
          <li key={`${a.at}-${a.type}-${i}`} className={s.item}>
            <Text>
              <Text weight="semibold">{ACTIVITY_LABELS[a.type]}:</Text>{" "}
              {a.url ? <Link href={a.url} target="_blank" rel="noopener noreferrer">{a.title}</Link> : shown(a)}
            </Text>
            <Text size={200} className={s.meta}><time dateTime={a.at}>{when(a.at)}</time></Text>
            {a.detail ? <Text size={200}>{a.detail}</Text> : null}
          </li>
        ))}
      </ol>
      {partial ? (
        <MessageBar intent="info"><MessageBarBody>
          Campaign activity is shown for the most recent campaigns only; older opens and clicks may be missing.
        </MessageBarBody></MessageBar>
      ) : null}
      {loading ? <Spinner size="tiny" label="Loading activity…" /> : null}
      {error ? <MessageBar intent="error"><MessageBarBody>{error}</MessageBarBody></MessageBar> : null}
      {cursor && !loading ? (
        <Button appearance="secondary" onClick={() => void load(cursor, false)}>Show older activity</Button>
      ) : null}
    </section>
  );
}
