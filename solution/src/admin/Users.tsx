/** User Management: find a Dynamics user as you type, give a role, list holders (direct and by team), remove. */
import {
  Button, Dropdown, Field, Input, Option, Subtitle2, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text,
} from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import type { DynamicsUser, ProductRole, RoleHolder } from "../api/admin";
import { useDebounced } from "../panel/useDebounced";
import { Failure, Notice, PageFrame, Show, messageOf, useFrameStyles, useLoad } from "./common";
import { useAdmin } from "./Shell";

export const SEARCH_DELAY_MS = 300;
const ROLES: ProductRole[] = ["ActiveCampaign User", "ActiveCampaign Admin"];

function who(u: DynamicsUser): string {
  return u.full_name ?? u.email ?? u.domain_name ?? u.user_id;
}

export function Users() {
  const s = useFrameStyles();
  const { api } = useAdmin();
  const [holders, reload] = useLoad(useCallback(() => api.holders(), [api]));
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), SEARCH_DELAY_MS);
  const [found, setFound] = useState<DynamicsUser[] | null>(null);
  const [picked, setPicked] = useState<DynamicsUser | null>(null);
  const [role, setRole] = useState<ProductRole>("ActiveCampaign User");
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);

  useEffect(() => {
    if (q.length < 2) { setFound(null); return; }
    let alive = true;
    api.searchUsers(q).then((u) => { if (alive) setFound(u); })
      .catch((e: unknown) => { if (alive) setOutcome({ ok: false, message: messageOf(e) }); });
    return () => { alive = false; };
  }, [api, q]);

  async function add() {
    if (!picked) return;
    try {
      await api.assign(picked.user_id, role);
      setOutcome({ ok: true, message: `${who(picked)} now holds ${role}.` });
      setPicked(null); setText(""); reload();
    } catch (e) { setOutcome({ ok: false, message: messageOf(e) }); }
  }

  async function remove(h: RoleHolder, r: ProductRole) {
    try {
      await api.removeRole(h.user.user_id, r);
      setOutcome({ ok: true, message: `${who(h.user)} no longer holds ${r} directly.` });
      reload();
    } catch (e) { setOutcome({ ok: false, message: messageOf(e) }); }
  }

  return (
    <PageFrame title="User Management" id="acds-users">
      <section className={s.section} aria-labelledby="acds-add-user">
        <Subtitle2 as="h2" id="acds-add-user">Add a user</Subtitle2>
        <div className={s.rowTop}>
          <Field label="Find a Dynamics user" hint="Type part of a name or email address">
            <Input value={text} onChange={(_, d) => { setText(d.value); setPicked(null); }} role="searchbox" />
          </Field>
          <Field label="Role">
            <Dropdown value={role} selectedOptions={[role]} onOptionSelect={(_, d) => setRole((d.optionValue ?? role) as ProductRole)}>
              {ROLES.map((r) => <Option key={r} value={r}>{r}</Option>)}
            </Dropdown>
          </Field>
          <Button appearance="primary" className={s.besideField} disabled={!picked} onClick={() => void add()}>
            {picked ? `Add ${who(picked)}` : "Add"}
          </Button>
        </div>
        {found && !picked ? (
          found.length ? (
            <ul aria-label="Matching users" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {found.map((u) => (
                <li key={u.user_id}>
                  <Button appearance="subtle" onClick={() => setPicked(u)}>{who(u)}{u.email ? ` (${u.email})` : ""}</Button>
                </li>
              ))}
            </ul>
          ) : <Text>No enabled user matches “{q}”.</Text>
        ) : null}
        {outcome ? (outcome.ok ? <Notice intent="success">{outcome.message}</Notice> : <Failure message={outcome.message} />) : null}
      </section>
      <section className={s.section} aria-labelledby="acds-holders">
        <Subtitle2 as="h2" id="acds-holders">Who has access</Subtitle2>
        <Show state={holders} label="Loading the role holders…">
          {(list) => (
            <Table aria-labelledby="acds-holders" size="small">
              <TableHeader><TableRow>
                <TableHeaderCell>User</TableHeaderCell><TableHeaderCell>Email</TableHeaderCell><TableHeaderCell>Roles</TableHeaderCell>
              </TableRow></TableHeader>
              <TableBody>
                {list.map((h) => (
                  <TableRow key={h.user.user_id}>
                    <TableCell>{who(h.user)}</TableCell>
                    <TableCell>{h.user.email ?? ""}</TableCell>
                    <TableCell>
                      {h.roles.map((g) => (
                        <div key={`${g.role}-${g.via}-${g.team ?? ""}`}>
                          {g.role} {g.via === "team" ? `(through team ${g.team ?? "?"})` : "(direct)"}{" "}
                          {g.via === "direct" ? (
                            <Button size="small" appearance="subtle" aria-label={`Remove ${g.role} from ${who(h.user)}`}
                                    onClick={() => void remove(h, g.role)}>Remove</Button>
                          ) : null}
                        </div>
                      ))}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </Show>
      </section>
    </PageFrame>
  );
}
