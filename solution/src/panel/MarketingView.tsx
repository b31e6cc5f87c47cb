import { Badge, Link, MessageBar, MessageBarBody, Subtitle2, Text, makeStyles, mergeClasses, tokens,
} from "@fluentui/react-components";
import type { Marketing } from "../api/seller-contract";
import { LIST_STATUS_LABELS, NOT_SYNCED, when } from "./format";

const useStyles = makeStyles({
  // Groups further apart than a heading is from its own content, so each heading reads with what it names.
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalL },
  group: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  heading: { margin: 0 },
  facts: { display: "grid", gridTemplateColumns: "max-content 1fr", columnGap: tokens.spacingHorizontalM,
           rowGap: tokens.spacingVerticalXS, margin: 0 },
  term: { color: tokens.colorNeutralForeground2 },
  def: { margin: 0, overflowWrap: "anywhere" },
  list: { listStyleType: "none", padding: 0, margin: 0, display: "flex", flexDirection: "column",
          gap: tokens.spacingVerticalXS },
  row: { display: "flex", justifyContent: "space-between", alignItems: "center", gap: tokens.spacingHorizontalS,
         flexWrap: "wrap" },
  // A name and a smaller "Active since …": on one baseline.
  textRow: { alignItems: "baseline" },
  when: { color: tokens.colorNeutralForeground2 },
  tags: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalXS, padding: 0, margin: 0,
          listStyleType: "none" },
});

const STATUS_COLOR = { active: "success", unsubscribed: "warning", bounced: "danger", unconfirmed: "informative" } as const;

export function MarketingView({ marketing }: { marketing: Marketing }) {
  const s = useStyles();
  if (!marketing.synced) {
    const reason = marketing.reason ? NOT_SYNCED[marketing.reason] : "This record does not sync.";
    return (
      <section aria-labelledby="acds-marketing" className={s.group}>
        <Subtitle2 as="h2" id="acds-marketing" className={s.heading}>Marketing</Subtitle2>
        <MessageBar intent={marketing.reason === "error" ? "error" : "info"}>
          <MessageBarBody>
            {reason}
            {marketing.error ? <> {marketing.error.message}</> : null}
          </MessageBarBody>
        </MessageBar>
      </section>
    );
  }
  const c = marketing.contact;
  return (
    <section aria-labelledby="acds-marketing" className={s.section}>
      <div className={s.group}>
        <Subtitle2 as="h2" id="acds-marketing" className={s.heading}>Marketing</Subtitle2>
        <dl className={s.facts}>
          <dt className={s.term}>Contact</dt>
          <dd className={s.def}>
            {c ? <Link href={c.url} target="_blank" rel="noopener noreferrer">{c.email}</Link> : "—"}
          </dd>
          <dt className={s.term}>Score</dt>
          <dd className={s.def}>{marketing.score ?? "—"}</dd>
        </dl>
      </div>
      <div className={s.group}>
        <Subtitle2 as="h3" className={s.heading}>Lists</Subtitle2>
        {marketing.lists.length === 0 ? <Text>On no list.</Text> : (
          <ul className={s.list} aria-label="Lists">
            {marketing.lists.map((l) => (
              <li key={l.id} className={s.row}>
                <Text>{l.name}</Text>
                <Badge appearance="tint" color={STATUS_COLOR[l.status]}>{LIST_STATUS_LABELS[l.status]}</Badge>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className={s.group}>
        <Subtitle2 as="h3" className={s.heading}>Tags</Subtitle2>
        {marketing.tags.length === 0 ? <Text>No tags.</Text> : (
          <ul className={s.tags} aria-label="Tags">
            {marketing.tags.map((t) => <li key={t}><Badge appearance="outline" color="brand">{t}</Badge></li>)}
          </ul>
        )}
      </div>
      <div className={s.group}>
        <Subtitle2 as="h3" className={s.heading}>Automations</Subtitle2>
        {marketing.automations.length === 0 ? <Text>In no automation.</Text> : (
          <ul className={s.list} aria-label="Automations">
            {marketing.automations.map((a) => (
              <li key={a.id} className={mergeClasses(s.row, s.textRow)}>
                <Text>{a.name}</Text>
                <Text size={200} className={s.when}>
                  {a.status === "active" ? "Active" : "Completed"}
                  {a.status === "completed" && a.finished_at ? ` ${when(a.finished_at)}`
                    : a.started_at ? ` since ${when(a.started_at)}` : ""}
                </Text>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
