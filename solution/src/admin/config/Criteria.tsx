/** Criteria rows: field / operator / value, with the operators the column's type supports; add; trash. */
import { Button, Dropdown, Field, Input, Option, makeStyles, tokens } from "@fluentui/react-components";
import { NARROW_QUERY } from "../common";
import { AddIcon, TrashIcon } from "../icons";
import type { Condition, FieldInfo } from "../../api/admin";
import { OPERATOR_LABELS, type Operator, type Vocabulary, textOf } from "./model";

const useStyles = makeStyles({
  row: { display: "grid", gridTemplateColumns: "minmax(0, 3fr) minmax(0, 2fr) minmax(0, 3fr) auto",
         gap: tokens.spacingHorizontalS, alignItems: "end",
         // Narrow: field and operator on one line, the value and the trash under them.
         [`@media ${NARROW_QUERY}`]: { gridTemplateColumns: "minmax(0, 1fr) minmax(0, 1fr)", justifyItems: "start" } },
  cell: { minWidth: 0, justifySelf: "stretch" },
  list: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, listStyle: "none", margin: 0, padding: 0 },
});

interface Props {
  label: string;
  prefix: string;
  rows: Condition[];
  columns: FieldInfo[];
  vocab: Vocabulary;
  issue: (path: string) => string | undefined;
  onChange: (rows: Condition[]) => void;
}

const err = (m: string | undefined) => m ? { validationState: "error" as const, validationMessage: m } : {};

/** A column's options as `GET …/fields` gives them ("1:Advertisement"): the value to compare and its label. */
export function optionsOf(column: FieldInfo | undefined): { value: string; label: string }[] {
  return (column?.options ?? []).map((o) => {
    const at = o.indexOf(":");
    return at < 0 ? { value: o, label: o } : { value: o.slice(0, at), label: `${o.slice(at + 1)} (${o.slice(0, at)})` };
  });
}

/** The options a criterion's value is chosen from: a choice column's (Picklist, State, Status: their values are
 * option numbers). A yes/no column's options ("1:Do Not Allow") are not its values (true/false): none. */
function choicesOf(vocab: Vocabulary, column: FieldInfo | undefined): { value: string; label: string }[] {
  return column && vocab.kindOf(column.type) === "whole_number" ? optionsOf(column) : [];
}

/** The value box: a dropdown of the column's options when it has some (a choice column), else text. */
function ValueInput({ c, type, options, vocab, onValue }: {
  c: Condition; type: string; options: { value: string; label: string }[]; vocab: Vocabulary; onValue: (v: Condition["value"]) => void;
}) {
  const takes = vocab.takesValue(c.operator);
  const text = textOf(c.value);
  if (takes && options.length) {
    const list = c.operator === "in";
    const chosen = text === "" ? [] : text.split(",").map((x) => x.trim());
    const shown = chosen.map((k) => options.find((o) => o.value === k)?.label ?? k).join(", ");
    return (
      <Dropdown style={{ minWidth: 0 }} multiselect={list} value={shown} selectedOptions={chosen}
                placeholder={list ? "Choose options" : "Choose an option"}
                onOptionSelect={(_, d) => onValue(vocab.valueOf(list ? d.selectedOptions.join(",") : d.optionValue ?? text, type, c.operator))}>
        {options.map((o) => <Option key={o.value} value={o.value}>{o.label}</Option>)}
      </Dropdown>
    );
  }
  return (
    <Input style={{ minWidth: 0 }} value={text} disabled={!takes} placeholder={takes ? undefined : "none needed"}
           onChange={(_, d) => onValue(vocab.valueOf(d.value, type, c.operator))} />
  );
}

/** A condition on `field` that keeps what it can of `c`: its operator if the column's type takes it, its value retyped. */
function onField(vocab: Vocabulary, c: Condition, field: string, type: string): Condition {
  const ops = vocab.operatorsFor(type);
  const operator = ops.includes(c.operator) ? c.operator : ops[0] ?? "is_empty";
  return { field, operator, value: vocab.valueOf(textOf(c.value), type, operator) };
}

export function Criteria({ label, prefix, rows, columns, vocab, issue, onChange }: Props) {
  const s = useStyles();
  const typeOf = (name: string) => columns.find((c) => c.name === name)?.type ?? "";
  const put = (i: number, c: Condition) => onChange(rows.map((r, j) => (j === i ? c : r)));
  const first = columns[0]?.name ?? "";
  return (
    <div>
      <ul className={s.list} aria-label={`${label} criteria`}>
        {rows.map((c, i) => {
          const n = i + 1;
          const type = typeOf(c.field);
          const options = choicesOf(vocab, columns.find((x) => x.name === c.field));
          const ops = vocab.operatorsFor(type);
          const path = `${prefix}.criteria[${i}]`;
          return (
            <li key={i} className={s.row}>
              <Field className={s.cell} label={`Field ${n}`} {...err(issue(`${path}.field`))}>
                <Dropdown style={{ minWidth: 0 }} value={c.field} selectedOptions={[c.field]} placeholder="Choose a field"
                          onOptionSelect={(_, d) => {
                            const field = d.optionValue ?? c.field;
                            const next = onField(vocab, c, field, typeOf(field));
                            // A choice column: a value that is none of its options does not carry over.
                            const opts = choicesOf(vocab, columns.find((x) => x.name === field));
                            const kept = textOf(next.value).split(",").map((x) => x.trim()).filter((x) => x !== "");
                            if (opts.length && kept.some((k) => !opts.some((o) => o.value === k))) {
                              next.value = vocab.valueOf("", typeOf(field), next.operator);
                            }
                            put(i, next);
                          }}>
                  {columns.map((f) => <Option key={f.name} value={f.name}>{f.name}</Option>)}
                </Dropdown>
              </Field>
              <Field className={s.cell} label={`Operator ${n}`} {...err(issue(`${path}.operator`))}>
                <Dropdown style={{ minWidth: 0 }} value={OPERATOR_LABELS[c.operator]} selectedOptions={[c.operator]}
                          onOptionSelect={(_, d) => {
                            const op = (d.optionValue ?? c.operator) as Operator;
                            // From "is one of" to one value: the first of the list carries over, not the whole list.
                            const kept = Array.isArray(c.value) && op !== "in" ? c.value.slice(0, 1) : c.value;
                            put(i, { ...c, operator: op, value: vocab.valueOf(textOf(kept), type, op) });
                          }}>
                  {ops.map((o) => <Option key={o} value={o}>{OPERATOR_LABELS[o]}</Option>)}
                </Dropdown>
              </Field>
              <Field className={s.cell} label={`Value ${n}`} {...err(issue(`${path}.value`) ?? issue(`${path}.value[0]`))}
                     hint={c.operator === "in" && !options.length ? "separate values with commas" : undefined}>
                <ValueInput c={c} type={type} options={options} vocab={vocab} onValue={(value) => put(i, { ...c, value })} />
              </Field>
              <Button icon={<TrashIcon />} aria-label={`Remove criterion ${n}`} appearance="subtle"
                      onClick={() => onChange(rows.filter((_, j) => j !== i))} />
            </li>
          );
        })}
      </ul>
      <Button icon={<AddIcon />} appearance="secondary" style={{ marginTop: tokens.spacingVerticalS }}
              onClick={() => onChange([...rows, onField(vocab, { field: "", operator: "eq", value: "" }, first, typeOf(first))])}>
        Add criterion
      </Button>
    </div>
  );
}
