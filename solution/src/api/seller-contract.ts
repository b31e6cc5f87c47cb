/**
 * HAND-WRITTEN contract of the seller routes (issue 19), which the API now implements exactly.
 *
 * Every answer is checked at run time against it (`parse*` below), so a drift shows up as a clear
 * "unexpected answer" instead of a half-drawn panel; `contract-drift.test.ts` checks at compile time that
 * these types are the generated ones (`schema.gen.ts`, from the API's OpenAPI document) both ways.
 */

export type Entity = "lead" | "contact";

export interface Me {
  user_id: string | null;
  name: string;
  roles: string[];
  is_admin: boolean;
  is_seller: boolean;
}

export type NotSyncedReason = "no_email" | "outside_criteria" | "error" | "not_yet_synced";
export type ListStatus = "active" | "unsubscribed" | "bounced" | "unconfirmed";
export type AutomationStatus = "active" | "completed";

export interface ApiErrorDetail {
  code: string;
  message: string;
  field?: string | null;
}

export interface MarketingContact {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  url: string;
}

export interface ListMembership {
  id: string;
  name: string;
  status: ListStatus;
}

export interface AutomationRun {
  id: string;
  name: string;
  status: AutomationStatus;
  started_at: string | null;
  finished_at: string | null;
}

export interface Marketing {
  synced: boolean;
  reason: NotSyncedReason | null;
  error: ApiErrorDetail | null;
  contact: MarketingContact | null;
  lists: ListMembership[];
  tags: string[];
  score: number | null;
  automations: AutomationRun[];
}

export const ACTIVITY_TYPES = [
  "campaign_send", "open", "click", "reply", "bounce", "unsubscribe",
  "automation_entered", "automation_finished", "form", "site_visit", "event",
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export interface Activity {
  type: ActivityType;
  at: string;
  title: string;
  url: string | null;
  detail: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `partial`: the campaign events were read from the capped reports and some were left unread. */
export interface ActivityPage extends Page<Activity> {
  partial: boolean;
}

export interface Choice {
  id: string;
  name: string;
}

export interface AutomationAdded {
  outcome: "added";
  contact_id: string;
  synced_now: boolean;
}

export interface CampaignSent {
  outcome: "sent";
  contact_id: string;
}

/** The answer did not have the contract's shape: names the first place it differs. */
export class ContractViolation extends Error {
  constructor(readonly path: string, expected: string) {
    super(`unexpected answer from the API: ${path} is not ${expected}`);
    this.name = "ContractViolation";
  }
}

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ContractViolation(path, "an object");
  return v as Obj;
}
function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new ContractViolation(path, "a string");
  return v;
}
function strOrNull(v: unknown, path: string): string | null {
  return v === null || v === undefined ? null : str(v, path);
}
function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw new ContractViolation(path, "true or false");
  return v;
}
function arr<T>(v: unknown, path: string, item: (x: unknown, p: string) => T): T[] {
  if (!Array.isArray(v)) throw new ContractViolation(path, "a list");
  return v.map((x, i) => item(x, `${path}[${i}]`));
}
function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new ContractViolation(path, `one of ${allowed.join(", ")}`);
  }
  return v as T;
}
function isoTime(v: unknown, path: string): string {
  const s = str(v, path);
  if (Number.isNaN(Date.parse(s))) throw new ContractViolation(path, "an ISO-8601 time");
  return s;
}
function isoOrNull(v: unknown, path: string): string | null {
  return v === null || v === undefined ? null : isoTime(v, path);
}

export function parseErrorDetail(v: unknown, path = "error"): ApiErrorDetail {
  const o = obj(v, path);
  return { code: str(o.code, `${path}.code`), message: str(o.message, `${path}.message`),
           field: strOrNull(o.field, `${path}.field`) };
}

export function parseMe(v: unknown): Me {
  const o = obj(v, "me");
  return {
    user_id: strOrNull(o.user_id, "me.user_id"), name: str(o.name, "me.name"),
    roles: arr(o.roles, "me.roles", str), is_admin: bool(o.is_admin, "me.is_admin"),
    is_seller: bool(o.is_seller, "me.is_seller"),
  };
}

const REASONS = ["no_email", "outside_criteria", "error", "not_yet_synced"] as const;
const LIST_STATUSES = ["active", "unsubscribed", "bounced", "unconfirmed"] as const;
const AUTOMATION_STATUSES = ["active", "completed"] as const;

export function parseMarketing(v: unknown): Marketing {
  const o = obj(v, "marketing");
  const synced = bool(o.synced, "marketing.synced");
  const reason = o.reason === null || o.reason === undefined ? null : oneOf(o.reason, "marketing.reason", REASONS);
  if (!synced && reason === null) throw new ContractViolation("marketing.reason", "set when synced is false");
  const contact = o.contact === null || o.contact === undefined ? null : (() => {
    const c = obj(o.contact, "marketing.contact");
    return { id: str(c.id, "marketing.contact.id"), email: str(c.email, "marketing.contact.email"),
             first_name: str(c.first_name ?? "", "marketing.contact.first_name"),
             last_name: str(c.last_name ?? "", "marketing.contact.last_name"),
             url: str(c.url, "marketing.contact.url") };
  })();
  const score = o.score === null || o.score === undefined ? null : o.score;
  if (score !== null && typeof score !== "number") throw new ContractViolation("marketing.score", "a number");
  return {
    synced, reason, contact, score,
    error: o.error === null || o.error === undefined ? null : parseErrorDetail(o.error, "marketing.error"),
    lists: arr(o.lists, "marketing.lists", (x, p) => {
      const l = obj(x, p);
      return { id: str(l.id, `${p}.id`), name: str(l.name, `${p}.name`), status: oneOf(l.status, `${p}.status`, LIST_STATUSES) };
    }),
    tags: arr(o.tags, "marketing.tags", str),
    automations: arr(o.automations, "marketing.automations", (x, p) => {
      const a = obj(x, p);
      return { id: str(a.id, `${p}.id`), name: str(a.name, `${p}.name`),
               status: oneOf(a.status, `${p}.status`, AUTOMATION_STATUSES),
               started_at: isoOrNull(a.started_at, `${p}.started_at`),
               finished_at: isoOrNull(a.finished_at, `${p}.finished_at`) };
    }),
  };
}

function parsePage<T>(v: unknown, name: string, item: (x: unknown, p: string) => T): Page<T> {
  const o = obj(v, name);
  return { items: arr(o.items, `${name}.items`, item), next_cursor: strOrNull(o.next_cursor, `${name}.next_cursor`) };
}

export function parseActivities(v: unknown): ActivityPage {
  const page = parsePage(v, "activities", (x, p) => {
    const a = obj(x, p);
    return { type: oneOf(a.type, `${p}.type`, ACTIVITY_TYPES), at: isoTime(a.at, `${p}.at`),
             title: str(a.title, `${p}.title`), url: strOrNull(a.url, `${p}.url`),
             detail: strOrNull(a.detail, `${p}.detail`) };
  });
  const partial = obj(v, "activities").partial;
  return { ...page, partial: partial === undefined ? false : bool(partial, "activities.partial") };
}

export function parseChoices(v: unknown): Page<Choice> {
  return parsePage(v, "choices", (x, p) => {
    const c = obj(x, p);
    return { id: str(c.id, `${p}.id`), name: str(c.name, `${p}.name`) };
  });
}

export function parseAutomationAdded(v: unknown): AutomationAdded {
  const o = obj(v, "result");
  if (o.outcome !== "added") throw new ContractViolation("result.outcome", '"added"');
  return { outcome: "added", contact_id: str(o.contact_id, "result.contact_id"),
           synced_now: bool(o.synced_now, "result.synced_now") };
}

export function parseCampaignSent(v: unknown): CampaignSent {
  const o = obj(v, "result");
  if (o.outcome !== "sent") throw new ContractViolation("result.outcome", '"sent"');
  return { outcome: "sent", contact_id: str(o.contact_id, "result.contact_id") };
}
