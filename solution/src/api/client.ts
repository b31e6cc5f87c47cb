/**
 * The API client the pages use. Every call carries a bearer token from `getToken`, every answer
 * is checked against its contract, and every failure becomes an `ApiFailure` with the API's own
 * `{error: {code, message, field}}` (or a plain description when the API could not be reached).
 */
import type { ConnectionView } from "./generated";
import { parseConnectionView } from "./generated";
import {
  type AutomationAdded, type CampaignSent, type Choice, type Entity, type Marketing, type Me, type Page,
  type ActivityPage, ContractViolation, parseActivities, parseAutomationAdded, parseCampaignSent, parseChoices,
  parseErrorDetail, parseMarketing, parseMe,
} from "./seller-contract";

export interface FieldIssue { field: string | null; message: string }

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field: string | null = null,
              readonly issues: FieldIssue[] = []) {
    super(message);
    this.name = "ApiFailure";
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  connectionId: string;
  getToken: () => Promise<string>;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = `${opts.baseUrl.replace(/\/+$/, "")}/api/connections/${encodeURIComponent(opts.connectionId)}`;
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  me(): Promise<Me> {
    return this.call("GET", "/me", parseMe);
  }

  connection(): Promise<ConnectionView> {
    return this.call("GET", "/connection", parseConnectionView);
  }

  marketing(entity: Entity, id: string): Promise<Marketing> {
    return this.call("GET", `${record(entity, id)}/marketing`, parseMarketing);
  }

  activities(entity: Entity, id: string, cursor: string | null, limit = 20): Promise<ActivityPage> {
    return this.call("GET", `${record(entity, id)}/activities${query({ cursor, limit })}`, parseActivities);
  }

  automations(search: string, cursor: string | null = null, limit = 20): Promise<Page<Choice>> {
    return this.call("GET", `/automations${query({ search, cursor, limit })}`, parseChoices);
  }

  campaigns(search: string, cursor: string | null = null, limit = 20): Promise<Page<Choice>> {
    return this.call("GET", `/campaigns${query({ search, cursor, limit })}`, parseChoices);
  }

  addToAutomation(entity: Entity, id: string, automationId: string): Promise<AutomationAdded> {
    return this.call("POST", `${record(entity, id)}/automations`, parseAutomationAdded, { automation_id: automationId });
  }

  sendCampaign(entity: Entity, id: string, campaignId: string): Promise<CampaignSent> {
    return this.call("POST", `${record(entity, id)}/campaigns`, parseCampaignSent, { campaign_id: campaignId });
  }

  /** One call under the connection's path (`path` starts with `/`); the admin API builds on it. */
  async call<T>(method: string, path: string, parse: (v: unknown) => T, body?: unknown): Promise<T> {
    let token: string;
    try {
      token = await this.opts.getToken();
    } catch (e) {
      throw new ApiFailure(0, "sign_in_failed", `Signing in failed: ${describe(e)}`);
    }
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
      });
    } catch (e) {
      throw new ApiFailure(0, "unreachable", `The sync service cannot be reached (${describe(e)}).`);
    }
    const payload: unknown = response.status === 204 ? null : await response.json().catch(() => undefined);
    if (!response.ok) throw failureOf(response.status, payload);
    try {
      return parse(payload);
    } catch (e) {
      if (e instanceof ContractViolation || (e instanceof Error && e.name === "ContractViolation")) throw new ApiFailure(response.status, "unexpected_answer", e.message);
      throw e;
    }
  }
}

function record(entity: Entity, id: string): string {
  return `/records/${entity}/${encodeURIComponent(id)}`;
}

function query(params: Record<string, string | number | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

function failureOf(status: number, payload: unknown): ApiFailure {
  try {
    const body = payload as { error?: unknown; issues?: unknown } | undefined;
    const detail = parseErrorDetail(body?.error);
    const issues = Array.isArray(body?.issues) ? body.issues.map((x, i) => parseErrorDetail(x, `issues[${i}]`)) : [];
    return new ApiFailure(status, detail.code, detail.message, detail.field ?? null,
      issues.map((x) => ({ field: x.field ?? null, message: x.message })));
  } catch {
    return new ApiFailure(status, "http_error", `The sync service answered ${status}.`);
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
