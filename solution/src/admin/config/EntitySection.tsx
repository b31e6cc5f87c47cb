/** One entity's part of the Data Configuration: toggle, direction, scope and criteria, mappings. */
import {
  Dropdown, Field, Option, Radio, RadioGroup, Spinner, Subtitle2, Switch, Text, Textarea, makeStyles, tokens,
} from "@fluentui/react-components";
import type { EntityMapping, FieldsView } from "../../api/admin";
import { Failure, type Loaded } from "../common";
import { Criteria } from "./Criteria";
import { CustomMappings, RULES, StandardMappings } from "./Mappings";
import { ENTITIES, type EntityKey, type Vocabulary } from "./model";

const useStyles = makeStyles({
  card: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium,
          padding: tokens.spacingHorizontalL, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalL, alignItems: "flex-end" },
});

const DIRECTIONS: { value: EntityMapping["direction"]; label: string }[] = [
  { value: "bidirectional", label: "Both ways" }, { value: "push", label: "Dynamics → ActiveCampaign" },
  { value: "pull", label: "ActiveCampaign → Dynamics" },
];
const err = (m: string | undefined) => m ? { validationState: "error" as const, validationMessage: m } : {};

interface Props {
  k: EntityKey;
  m: EntityMapping;
  fields: Loaded<FieldsView> | undefined;
  vocab: Vocabulary;
  issue: (path: string) => string | undefined;
  onChange: (m: EntityMapping) => void;
}

export function EntitySection({ k, m, fields, vocab, issue, onChange }: Props) {
  const s = useStyles();
  const { entity, label } = ENTITIES.find((e) => e.key === k) ?? { entity: "contact" as const, label: k };
  const prefix = `entities.${k}`;
  const columns = fields?.kind === "ok" ? fields.value.dynamics : [];
  const opportunity = k === "opportunities";
  return (
    <section className={s.card} aria-labelledby={`acds-entity-${k}`}>
      <Subtitle2 as="h2" id={`acds-entity-${k}`}>{label}</Subtitle2>
      <div className={s.row}>
        <Switch checked={m.enabled} label={`Sync ${label.toLowerCase()}`} onChange={(_, d) => onChange({ ...m, enabled: d.checked })} />
        <Field label="Direction" {...err(issue(`${prefix}.direction`))}>
          <Dropdown value={DIRECTIONS.find((d) => d.value === m.direction)?.label ?? ""} selectedOptions={[m.direction]}
                    onOptionSelect={(_, d) => onChange({ ...m, direction: (d.optionValue ?? m.direction) as EntityMapping["direction"] })}>
            {DIRECTIONS.map((d) => <Option key={d.value} value={d.value}>{d.label}</Option>)}
          </Dropdown>
        </Field>
        <Field label="When both sides changed" {...err(issue(`${prefix}.conflict`))}>
          <Dropdown value={RULES.find((r) => r.value === m.conflict)?.label ?? ""} selectedOptions={[m.conflict]}
                    onOptionSelect={(_, d) => onChange({ ...m, conflict: (d.optionValue ?? m.conflict) as EntityMapping["conflict"] })}>
            {RULES.map((r) => <Option key={r.value} value={r.value}>{r.label}</Option>)}
          </Dropdown>
        </Field>
      </div>
      {m.enabled ? (
        <>
          <Field label={`Which ${label.toLowerCase()} sync`} {...err(issue(`${prefix}.scope`) ?? issue(`${prefix}.criteria`))}>
            <RadioGroup value={m.scope} onChange={(_, d) => onChange({ ...m, scope: d.value as EntityMapping["scope"] })}>
              <Radio value="all" label="All created or updated" />
              <Radio value="criteria" label="Only those matching criteria" />
              {opportunity ? <Radio value="custom" label="A custom filter (OData)" /> : null}
            </RadioGroup>
          </Field>
          {fields?.kind === "loading" ? <Spinner size="tiny" label={`Reading the ${label.toLowerCase()} fields…`} /> : null}
          {fields?.kind === "failed" ? <Failure message={fields.message} /> : null}
          {m.scope === "criteria" ? (
            <Criteria label={label} prefix={prefix} rows={m.criteria ?? []} columns={columns} vocab={vocab} issue={issue}
                      onChange={(criteria) => onChange({ ...m, criteria })} />
          ) : null}
          {m.scope === "custom" ? (
            <Field label="Custom filter" {...err(issue(`${prefix}.custom_filter`))}>
              <Textarea value={m.custom_filter ?? ""} onChange={(_, d) => onChange({ ...m, custom_filter: d.value })} />
            </Field>
          ) : null}
          <Subtitle2 as="h3">Standard mappings</Subtitle2>
          {opportunity ? <Text>The opportunity fields are fixed: they map to the “D365 Opportunity” custom object.</Text> : null}
          <StandardMappings label={label} fields={vocab.standard(entity)} standard={m.standard ?? {}}
                            onChange={(standard) => onChange({ ...m, standard })} />
          {!opportunity ? (
            <>
              <Subtitle2 as="h3">Custom mappings</Subtitle2>
              <CustomMappings entity={entity} label={label} prefix={prefix} rows={m.custom ?? []} columns={columns}
                              issue={issue} onChange={(custom) => onChange({ ...m, custom })} />
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
