/**
 * What the Data Configuration page knows beyond the API's answers. The API has no route for the
 * standard mappings' keys or the operators per column type, so they mirror `sync_core/model/
 * standard.py` and `sync_core/engine/validation_criteria.py`; the API validates every save and
 * preview against both systems' metadata, so a drift shows up as an error at the field.
 */
import type { Condition, DataConfig, EntityMapping, EntityParam } from "../../api/admin";

export type EntityKey = keyof DataConfig["entities"];
export const ENTITIES: { key: EntityKey; entity: EntityParam; label: string }[] = [
  { key: "contacts", entity: "contact", label: "Contacts" },
  { key: "leads", entity: "lead", label: "Leads" },
  { key: "accounts", entity: "account", label: "Accounts" },
  { key: "opportunities", entity: "opportunity", label: "Opportunities" },
];

export interface Standard { key: string; dynamics: string; activecampaign: string; locked: boolean }
const std = (key: string, dynamics: string, activecampaign: string, locked = false): Standard => ({ key, dynamics, activecampaign, locked });
export const STANDARD: Record<EntityKey, Standard[]> = {
  contacts: [std("email", "emailaddress1", "email", true), std("account", "parentcustomerid", "account", true),
    std("firstName", "firstname", "firstName"), std("lastName", "lastname", "lastName"), std("phone", "telephone1", "phone"),
    std("jobTitle", "jobtitle", "accountContact.jobTitle")],
  leads: [std("email", "emailaddress1", "email", true), std("firstName", "firstname", "firstName"),
    std("lastName", "lastname", "lastName"), std("phone", "telephone1", "phone")],
  accounts: [std("name", "name", "name", true), std("accountUrl", "websiteurl", "accountUrl")],
  opportunities: [std("name", "name", "name", true), std("estimatedvalue", "estimatedvalue", "estimated-revenue", true),
    std("estimatedclosedate", "estimatedclosedate", "estimated-close-date", true),
    std("actualvalue", "actualvalue", "actual-revenue", true), std("stepname", "stepname", "stage", true)],
};

export type Operator = Condition["operator"];
const TEXT = new Set(["StringType", "MemoType"]);
const NUMBER = new Set(["IntegerType", "BigIntType", "DecimalType", "DoubleType", "MoneyType"]);
const WHOLE = new Set(["IntegerType", "BigIntType", "PicklistType", "StateType", "StatusType"]);
const ORDERED = new Set([...NUMBER, "DateTimeType"]);
const FILTERABLE = new Set([...TEXT, ...NUMBER, ...WHOLE, "BooleanType", "DateTimeType", "LookupType", "CustomerType",
  "OwnerType", "UniqueidentifierType"]);

export const OPERATOR_LABELS: Record<Operator, string> = {
  eq: "equals", ne: "does not equal", contains: "contains", not_contains: "does not contain", starts_with: "starts with",
  ends_with: "ends with", gt: "greater than", ge: "at least", lt: "less than", le: "at most", is_empty: "is empty",
  is_not_empty: "is not empty", in: "is one of",
};

/** Whether a column of this type can be used in criteria at all. */
export function filterable(type: string): boolean {
  return FILTERABLE.has(type);
}

/** The operators the API accepts for a column of this type. */
export function operatorsFor(type: string): Operator[] {
  const out: Operator[] = ["eq", "ne"];
  if (TEXT.has(type)) out.push("contains", "not_contains", "starts_with", "ends_with");
  if (ORDERED.has(type)) out.push("gt", "ge", "lt", "le");
  out.push("in", "is_empty", "is_not_empty");
  return out;
}

export function takesValue(op: Operator): boolean {
  return op !== "is_empty" && op !== "is_not_empty";
}

type Scalar = string | number | boolean;
function scalar(text: string, type: string, op: Operator): Scalar {
  const t = text.trim();
  if (type === "BooleanType") return t === "true" ? true : t === "false" ? false : t;
  if ((NUMBER.has(type) || WHOLE.has(type)) && !["contains", "not_contains", "starts_with", "ends_with"].includes(op)) {
    const n = Number(t);
    return t !== "" && Number.isFinite(n) ? n : t;
  }
  return t;
}

/** The condition's value from what was typed: a number for number columns, a list for "is one of". */
export function valueOf(text: string, type: string, op: Operator): Condition["value"] {
  if (!takesValue(op)) return null;
  if (op === "in") return text.split(",").map((x) => x.trim()).filter((x) => x !== "").map((x) => scalar(x, type, op));
  return scalar(text, type, op);
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
    standard: {}, custom: [], constants: {}, conflict: "newest_wins" };
}
