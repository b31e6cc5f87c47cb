import {
  Button, Combobox, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, DialogTrigger,
  Field, Option, Spinner, Text, makeStyles, tokens,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { type ApiClient, ApiFailure } from "../api/client";
import type { Choice, Entity } from "../api/seller-contract";
import { useDebounced } from "./useDebounced";

export type ActionKind = "automation" | "campaign";

export interface Outcome {
  ok: boolean;
  message: string;
}

const TEXT = {
  automation: { open: "Add to automation", title: "Add to an automation", field: "Automation",
                confirm: "Add", none: "No automation matches." },
  campaign: { open: "Send campaign", title: "Send a campaign", field: "Campaign",
              confirm: "Send", none: "No campaign matches." },
} as const;

export const SEARCH_DELAY_MS = 300;

const useStyles = makeStyles({
  // Fluent draws a dialog edge to edge below 480 px; in a 340 px side pane that leaves it flush against the
  // pane's border. Keep a margin on both sides, as it has on a wide screen.
  surface: { "@media screen and (max-width: 480px)": { maxWidth: `calc(100% - 2 * ${tokens.spacingHorizontalL})` } },
});

/** Pick (searching as you type), confirm, then the API's outcome or refusal goes to `onOutcome`. */
export function ActionDialog({ kind, client, entity, id, who, onOutcome }: { kind: ActionKind; client: ApiClient;
  entity: Entity; id: string; who: string; onOutcome: (o: Outcome) => void }) {
  const t = TEXT[kind];
  const s = useStyles();
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const [choices, setChoices] = useState<Choice[]>([]);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Choice | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const search = useDebounced(query, SEARCH_DELAY_MS);
  // Until the debounced search answers, the last answer narrowed to what is typed (the API's rule: the name
  // contains it, in any case), so no option that cannot match stays on offer while the person types.
  const needle = query.trim().toLocaleLowerCase();
  const offered = choices.filter((c) => c.name.toLocaleLowerCase().includes(needle));
  const pending = searching || search !== query;

  useEffect(() => {
    if (!open) return;
    let live = true;
    setSearching(true);
    setSearchError(null);
    const list = kind === "automation" ? client.automations(search) : client.campaigns(search);
    list.then((page) => { if (live) setChoices(page.items); })
      .catch((e: unknown) => { if (live) setSearchError(e instanceof ApiFailure ? e.message : "The search failed."); })
      .finally(() => { if (live) setSearching(false); });
    return () => { live = false; };
  }, [open, search, kind, client]);

  function reset() {
    setQuery(""); setChosen(null); setConfirming(false); setChoices([]); setSearchError(null);
  }

  async function submit(choice: Choice) {
    setBusy(true);
    try {
      if (kind === "automation") {
        const r = await client.addToAutomation(entity, id, choice.id);
        onOutcome({ ok: true, message: `${who} was added to the automation “${choice.name}”.` +
          (r.synced_now ? " The record was synced to ActiveCampaign first." : "") });
      } else {
        await client.sendCampaign(entity, id, choice.id);
        onOutcome({ ok: true, message: `The campaign “${choice.name}” was sent to ${who}.` });
      }
    } catch (e) {
      onOutcome({ ok: false, message: refusal(kind, who, choice.name, e) });
    } finally {
      setBusy(false);
      setOpen(false);
      reset();
    }
  }

  return (
    <Dialog open={open} onOpenChange={(_, d) => { setOpen(d.open); if (!d.open) reset(); }}>
      <DialogTrigger disableButtonEnhancement>
        <Button appearance={kind === "automation" ? "primary" : "secondary"}>{t.open}</Button>
      </DialogTrigger>
      <DialogSurface aria-describedby={undefined} className={s.surface}>
        <DialogBody>
          <DialogTitle>{confirming ? "Please confirm" : t.title}</DialogTitle>
          <DialogContent>
            {confirming && chosen ? (
              <Text as="p">
                {kind === "automation" ? `Add ${who} to the automation “${chosen.name}”?`
                  : `Send the campaign “${chosen.name}” to ${who} now?`}
              </Text>
            ) : (
              <Field label={t.field} validationState={searchError ? "error" : "none"}
                     validationMessage={searchError ?? undefined}
                     hint={pending ? "Searching…" : !searchError && offered.length === 0 ? t.none : undefined}>
                <Combobox freeform placeholder="Type to search" value={chosen?.name ?? query}
                          onInput={(e) => { setQuery((e.target as HTMLInputElement).value); setChosen(null); }}
                          onOptionSelect={(_, d) => {
                            const c = choices.find((x) => x.id === d.optionValue) ?? null;
                            setChosen(c); // shown by name; the search stays what was typed
                          }}>
                  {offered.map((c) => <Option key={c.id} value={c.id}>{c.name}</Option>)}
                </Combobox>
              </Field>
            )}
          </DialogContent>
          <DialogActions>
            <DialogTrigger disableButtonEnhancement>
              <Button appearance="secondary" disabled={busy}>Cancel</Button>
            </DialogTrigger>
            {confirming && chosen ? (
              <Button appearance="primary" disabled={busy} icon={busy ? <Spinner size="tiny" /> : undefined}
                      onClick={() => void submit(chosen)}>{t.confirm}</Button>
            ) : (
              <Button appearance="primary" disabled={!chosen} onClick={() => setConfirming(true)}>Continue</Button>
            )}
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

/** A refused action in words. The API's sentence for "already in the automation" gives the run's start in UTC
 * (for the command line); the panel's Automations list shows that time in the user's own zone and format. */
function refusal(kind: ActionKind, who: string, name: string, e: unknown): string {
  if (e instanceof ApiFailure && e.code === "already_in_automation") {
    return `${who} is already in the automation “${name}”; nothing was changed.`;
  }
  const reason = e instanceof ApiFailure ? e.message : "The request failed.";
  return kind === "automation" ? `${who} was not added to “${name}”: ${reason}` : `The campaign “${name}” was not sent: ${reason}`;
}
