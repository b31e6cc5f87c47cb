/**
 * Data Configuration: each entity's settings as a draft; "Preview" runs the API's dry run of the
 * draft, "Save changes" saves it; the API's issues appear at the field they name; the shell warns
 * before navigating away from unsaved changes.
 */
import { Button, Text } from "@fluentui/react-components";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { ConfigView, DataConfig as Config, FieldsView, JobView } from "../api/admin";
import { ApiFailure, type FieldIssue } from "../api/client";
import { Failure, type Loaded, Notice, PageFrame, Show, messageOf, useFrameStyles, useLoad } from "./common";
import { EntitySection } from "./config/EntitySection";
import { ENTITIES, type EntityKey, Vocabulary, mappingOf, normalPath } from "./config/model";
import { PreviewResult } from "./config/Preview";
import { useAdmin } from "./Shell";

export const JOB_POLL_MS = 1000;

function issuesOf(e: unknown): FieldIssue[] {
  if (!(e instanceof ApiFailure)) return [];
  return e.issues.length ? e.issues : e.field ? [{ field: e.field, message: e.message }] : [];
}

function Editor({ saved, vocab, onSaved }: { saved: ConfigView; vocab: Vocabulary; onSaved: (v: ConfigView) => void }) {
  const s = useFrameStyles();
  const { api, setDirty } = useAdmin();
  const [draft, setDraft] = useState<Config>(() => structuredClone(saved.config));
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [preview, setPreview] = useState<JobView | null>(null);
  const [busy, setBusy] = useState<"preview" | "save" | null>(null);
  const [fields, setFields] = useState<Partial<Record<EntityKey, Loaded<FieldsView>>>>({});
  const dirty = useMemo(() => JSON.stringify(draft) !== JSON.stringify(saved.config), [draft, saved]);

  useEffect(() => { setDirty(dirty); }, [dirty, setDirty]);
  useEffect(() => () => setDirty(false), [setDirty]);

  const enabledKeys = ENTITIES.filter((e) => mappingOf(draft, e.key).enabled).map((e) => e.key).join(",");
  useEffect(() => {
    for (const { key, entity } of ENTITIES) {
      if (!enabledKeys.split(",").includes(key) || fields[key]) continue;
      setFields((f) => ({ ...f, [key]: { kind: "loading" } }));
      api.fields(entity).then((value) => setFields((f) => ({ ...f, [key]: { kind: "ok", value } })))
        .catch((e: unknown) => setFields((f) => ({ ...f, [key]: { kind: "failed", message: messageOf(e) } })));
    }
  }, [api, enabledKeys, fields]);

  const byPath = useMemo(() => new Map(issues.map((i) => [normalPath(i.field), i.message])), [issues]);
  const issue = useCallback((path: string) => byPath.get(path), [byPath]);

  async function runPreview() {
    setBusy("preview"); setOutcome(null); setPreview(null); setIssues([]);
    try {
      let job = await api.preview(draft, saved.etag);
      while (job.status === "running") {
        await new Promise((r) => setTimeout(r, JOB_POLL_MS));
        job = await api.job(job.job_id);
      }
      if (job.status === "failed") setOutcome({ ok: false, message: job.message ?? "The preview failed." });
      else if (job.issues.length) {
        setIssues(job.issues.map((i) => ({ field: i.field, message: i.message })));
        setOutcome({ ok: false, message: "The preview found problems: see the fields marked." });
      } else setPreview(job);
    } catch (e) {
      setIssues(issuesOf(e));
      setOutcome({ ok: false, message: messageOf(e) });
    } finally { setBusy(null); }
  }

  async function save() {
    setBusy("save"); setOutcome(null); setIssues([]);
    try {
      const v = await api.saveConfig(draft, saved.etag);
      setDirty(false);
      setDraft(structuredClone(v.config));
      onSaved(v);
      setOutcome({ ok: true, message: "Saved. The next sync uses this configuration." });
    } catch (e) {
      setIssues(issuesOf(e));
      setOutcome({ ok: false, message: messageOf(e) });
    } finally { setBusy(null); }
  }

  return (
    <>
      {ENTITIES.map(({ key }) => (
        <EntitySection key={key} k={key} m={mappingOf(draft, key)} fields={fields[key]} vocab={vocab} issue={issue}
                       onChange={(m) => setDraft((d) => ({ ...d, entities: { ...d.entities, [key]: m } }))} />
      ))}
      {issues.length ? (
        <Failure message={`Not saved: ${issues.map((i) => `${normalPath(i.field) || "configuration"}: ${i.message}`).join(" · ")}`} />
      ) : null}
      {outcome ? (outcome.ok ? <Notice intent="success">{outcome.message}</Notice> : <Failure message={outcome.message} />) : null}
      <div className={s.row}>
        <Button onClick={() => void runPreview()} disabled={busy !== null}>{busy === "preview" ? "Previewing…" : "Preview"}</Button>
        <Button appearance="primary" onClick={() => void save()} disabled={busy !== null || !dirty}>
          {busy === "save" ? "Saving…" : "Save changes"}
        </Button>
        {dirty ? <Text>Unsaved changes</Text> : null}
      </div>
      {preview ? <PreviewResult job={preview} /> : null}
    </>
  );
}

export function DataConfig() {
  const { api } = useAdmin();
  const [config, , set] = useLoad(useCallback(() => api.config(), [api]));
  const [vocab] = useLoad(useCallback(() => api.vocabulary().then((v) => new Vocabulary(v)), [api]));
  return (
    <PageFrame title="Data Configuration" id="acds-data">
      <Show state={vocab} label="Loading the configuration…">
        {(words) => (
          <Show state={config} label="Loading the configuration…">
            {(saved) => <Editor saved={saved} vocab={words} onSaved={set} />}
          </Show>
        )}
      </Show>
    </PageFrame>
  );
}
