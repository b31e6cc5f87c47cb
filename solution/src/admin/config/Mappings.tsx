/** Standard mappings with on/off toggles (locked ones stay on) and custom mappings from the API's candidates. */
import {
  Button, Dropdown, Field, Option, Switch, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, makeStyles, tokens,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";
import type { EntityParam, FieldInfo, FieldMapping, StandardMapping } from "../../api/admin";
import { NARROW_QUERY, messageOf } from "../common";
import { AddIcon, TrashIcon } from "../icons";
import { useAdmin } from "../Shell";

const useStyles = makeStyles({
  row: { display: "grid", gridTemplateColumns: "repeat(4, minmax(0, 1fr)) auto", gap: tokens.spacingHorizontalS, alignItems: "end",
         // Narrow: two fields a line, the trash last.
         [`@media ${NARROW_QUERY}`]: { gridTemplateColumns: "minmax(0, 1fr) minmax(0, 1fr)", justifyItems: "start" } },
  cell: { minWidth: 0, justifySelf: "stretch" },
  // The switch and "Always on" on one line on a desktop; in a side pane the names need the room, the label wraps.
  synced: { width: "8.5rem", [`@media ${NARROW_QUERY}`]: { width: "30%" } },
  list: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, listStyle: "none", margin: 0, padding: 0 },
});

const DIRECTIONS: { value: FieldMapping["direction"]; label: string }[] = [
  { value: "both", label: "Both ways" }, { value: "push", label: "Dynamics → ActiveCampaign" },
  { value: "pull", label: "ActiveCampaign → Dynamics" },
];
type Rule = NonNullable<FieldMapping["conflict"]>;
export const RULES: { value: Rule; label: string }[] = [
  { value: "newest_wins", label: "Newest change wins" }, { value: "dynamics_wins", label: "Dynamics wins" },
  { value: "activecampaign_wins", label: "ActiveCampaign wins" },
];
const INHERIT = "inherit";
const err = (m: string | undefined) => m ? { validationState: "error" as const, validationMessage: m } : {};

export function StandardMappings({ label, fields, standard, onChange }: {
  label: string; fields: StandardMapping[]; standard: Record<string, boolean>; onChange: (s: Record<string, boolean>) => void;
}) {
  const s = useStyles();
  return (
    <Table size="small" aria-label={`${label} standard mappings`}>
      <TableHeader><TableRow>
        <TableHeaderCell>Dynamics</TableHeaderCell><TableHeaderCell>ActiveCampaign</TableHeaderCell>
        <TableHeaderCell className={s.synced}>Synced</TableHeaderCell>
      </TableRow></TableHeader>
      <TableBody>
        {fields.map((f) => (
          <TableRow key={f.key}>
            <TableCell>{f.dynamics}</TableCell><TableCell>{f.activecampaign}</TableCell>
            <TableCell>
              <Switch checked={f.locked || standard[f.key] !== false} disabled={f.locked}
                      aria-label={`Sync ${f.dynamics} (${label})${f.locked ? ", always on" : ""}`}
                      label={f.locked ? "Always on" : undefined}
                      onChange={(_, d) => onChange({ ...standard, [f.key]: d.checked })} />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function CustomRow({ entity, n, m, columns, path, issue, onChange, onRemove }: {
  entity: EntityParam; n: number; m: FieldMapping; columns: FieldInfo[]; path: string;
  issue: (p: string) => string | undefined; onChange: (m: FieldMapping) => void; onRemove: () => void;
}) {
  const s = useStyles();
  const { api } = useAdmin();
  const [candidates, setCandidates] = useState<{ of: string; names: string[]; problem: string | null }>({ of: "", names: [], problem: null });
  useEffect(() => {
    if (!m.dynamics) return;
    let alive = true;
    api.fields(entity, m.dynamics).then((v) => { if (alive) setCandidates({ of: m.dynamics, names: v.candidates ?? [], problem: null }); })
      .catch((e: unknown) => { if (alive) setCandidates({ of: m.dynamics, names: [], problem: messageOf(e) }); });
    return () => { alive = false; };
  }, [api, entity, m.dynamics]);
  const names = candidates.of === m.dynamics ? candidates.names : [];
  const acProblem = issue(`${path}.activecampaign`) ?? (candidates.of === m.dynamics ? candidates.problem ?? undefined : undefined);
  return (
    <li className={s.row}>
      <Field className={s.cell} label={`Dynamics field ${n}`} {...err(issue(`${path}.dynamics`))}>
        <Dropdown style={{ minWidth: 0 }} value={m.dynamics} selectedOptions={[m.dynamics]} placeholder="Choose a column"
                  onOptionSelect={(_, d) => onChange({ ...m, dynamics: d.optionValue ?? m.dynamics, activecampaign: "" })}>
          {columns.map((c) => <Option key={c.name} value={c.name}>{c.name}</Option>)}
        </Dropdown>
      </Field>
      <Field className={s.cell} label={`ActiveCampaign field ${n}`} {...err(acProblem)}
             hint={m.dynamics && candidates.of === m.dynamics && !names.length && !acProblem ? "no compatible field" : undefined}>
        <Dropdown style={{ minWidth: 0 }} value={m.activecampaign} selectedOptions={[m.activecampaign]} placeholder="Choose a compatible field"
                  disabled={!names.length} onOptionSelect={(_, d) => onChange({ ...m, activecampaign: d.optionValue ?? "" })}>
          {names.map((c) => <Option key={c} value={c}>{c}</Option>)}
        </Dropdown>
      </Field>
      <Field className={s.cell} label={`Direction ${n}`} {...err(issue(`${path}.direction`))}>
        <Dropdown style={{ minWidth: 0 }} value={DIRECTIONS.find((x) => x.value === m.direction)?.label ?? ""} selectedOptions={[m.direction]}
                  onOptionSelect={(_, d) => onChange({ ...m, direction: (d.optionValue ?? m.direction) as FieldMapping["direction"] })}>
          {DIRECTIONS.map((x) => <Option key={x.value} value={x.value}>{x.label}</Option>)}
        </Dropdown>
      </Field>
      <Field className={s.cell} label={`Conflict rule ${n}`}>
        <Dropdown style={{ minWidth: 0 }} value={RULES.find((x) => x.value === m.conflict)?.label ?? "As the entity"} selectedOptions={[m.conflict ?? INHERIT]}
                  onOptionSelect={(_, d) => onChange({ ...m, conflict: d.optionValue === INHERIT ? null : (d.optionValue as Rule) })}>
          <Option value={INHERIT}>As the entity</Option>
          {RULES.map((x) => <Option key={x.value} value={x.value}>{x.label}</Option>)}
        </Dropdown>
      </Field>
      <Button icon={<TrashIcon />} appearance="subtle" aria-label={`Remove custom mapping ${n}`} onClick={onRemove} />
    </li>
  );
}

export function CustomMappings({ entity, label, prefix, rows, columns, issue, onChange }: {
  entity: EntityParam; label: string; prefix: string; rows: FieldMapping[]; columns: FieldInfo[];
  issue: (p: string) => string | undefined; onChange: (rows: FieldMapping[]) => void;
}) {
  const s = useStyles();
  return (
    <div>
      <ul className={s.list} aria-label={`${label} custom mappings`}>
        {rows.map((m, i) => (
          <CustomRow key={i} entity={entity} n={i + 1} m={m} columns={columns} path={`${prefix}.custom[${i}]`} issue={issue}
                     onChange={(x) => onChange(rows.map((r, j) => (j === i ? x : r)))}
                     onRemove={() => onChange(rows.filter((_, j) => j !== i))} />
        ))}
      </ul>
      <Button icon={<AddIcon />} style={{ marginTop: tokens.spacingVerticalS }}
              onClick={() => onChange([...rows, { dynamics: "", activecampaign: "", direction: "both", conflict: null }])}>
        Add custom mapping
      </Button>
    </div>
  );
}
