/**
 * What the Data Configuration page knows beyond the API's answers: the entities' labels, the
 * operators' words. Which operators a column's type takes, what their values are and each entity's
 * standard mappings come from `GET …/vocabulary`, built from the engine's own definitions.
 */
import type { Condition, DataConfig, EntityMapping, EntityParam, StandardMapping, ValueKind, VocabularyView } from "../../api/admin";

export type EntityKey = keyof DataConfig["entities"];
export const ENTITIES: { key: EntityKey; entity: EntityParam; label: string }[] = [
  { key: "contacts", entity: "contact", label: "Contacts" },
  { key: "leads", entity: "lead", label: "Leads" },
  { key: "accounts", entity: "account", label: "Accounts" },
  { key: "opportunities", entity: "opportunity", label: "Opportunities" },
];

export type Operator = Condition["operator"];

export const OPERATOR_LABELS: Record<Operator, string> = {
  eq: "equals", ne: "does not equal", contains: "contains", not_contains: "does not contain", starts_with: "starts with",
  ends_with: "ends with", gt: "greater than", ge: "at least", lt: "less than", le: "at most", is_empty: "is empty",
  is_not_empty: "is not empty", in: "is one of",
};

/** The API's vocabulary (`GET …/vocabulary`, the engine's own definitions) asked the page's questions. */
export class Vocabulary {
  private readonly types: Map<string, VocabularyView["column_types"][number]>;
  private readonly takes: Map<Operator, VocabularyView["operators"][number]["value"]>;

  constructor(readonly view: VocabularyView) {
    this.types = new Map(view.column_types.map((t) => [t.type, t]));
    this.takes = new Map(view.operators.map((o) => [o.operator, o.value]));
  }

  /** The operators the API accepts on a column of this type. */
  operatorsFor(type: string): Operator[] {
    return this.types.get(type)?.operators ?? this.view.other_types;
  }

  /** What a value compared with a column of this type is; null: the type takes no value. */
  kindOf(type: string): ValueKind | null {
    return this.types.get(type)?.value ?? null;
  }

  takesValue(op: Operator): boolean {
    return this.takes.get(op) !== "none";
  }

  /** The condition's value from what was typed: a number for number columns, a list for "is one of". */
  valueOf(text: string, type: string, op: Operator): Condition["value"] {
    const takes = this.takes.get(op) ?? "one";
    if (takes === "none") return null;
    const kind = this.kindOf(type);
    if (takes === "list") return text.split(",").map((x) => x.trim()).filter((x) => x !== "").map((x) => scalar(x, kind));
    return scalar(text, kind);
  }

  /** An entity's standard mappings, as the engine defines them. */
  standard(entity: EntityParam): StandardMapping[] {
    return this.view.entities.find((e) => e.entity === entity)?.standard ?? [];
  }
}

type Scalar = string | number | boolean;
function scalar(text: string, kind: ValueKind | null): Scalar {
  const t = text.trim();
  if (kind === "yes_no") return t === "true" ? true : t === "false" ? false : t;
  if (kind === "number" || kind === "whole_number") {
    const n = Number(t);
    return t !== "" && Number.isFinite(n) ? n : t;
  }
  return t;
}

export function textOf(value: Condition["value"]): string {
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.map(String).join(", ") : String(value);
}

/** The API's field paths in one form: `config.entities.leads.criteria.0.value` → `entities.leads.criteria[0].value`. */
export function normalPath(field: string | null): string {
  if (!field) return "";
  return field.replace(/^config\./, "").replace(/\.(\d+)(?=\.|$)/g, "[$1]");
}

/** An entity's mapping; the API's defaults when the document leaves it out. */
export function mappingOf(config: DataConfig, key: EntityKey): EntityMapping {
  return config.entities[key] ?? { enabled: false, direction: "bidirectional", scope: "all", criteria: [], custom_filter: null,
    standard: {}, custom: [], constants: {}, conflict: "newest_wins", on_delete: "keep", on_ac_delete: "keep" };
}
