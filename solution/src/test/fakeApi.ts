/**
 * A fetch that answers like the API per the seller contract, for component tests: routes by
 * method and path, records every request, and can be told to refuse a route.
 */
import { ApiClient } from "../api/client";

export interface Recorded { method: string; path: string; query: URLSearchParams; body: unknown; auth: string | null }
type Handler = (req: Recorded) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

export const BASE = "https://api.example.test";
export const CID = "contoso";
export const CONTACT_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

export class FakeApi {
  readonly requests: Recorded[] = [];
  private routes = new Map<string, Handler>();

  on(method: string, path: string, handler: Handler | { status: number; body: unknown }): this {
    this.routes.set(`${method} ${path}`, typeof handler === "function" ? handler : () => handler);
    return this;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const prefix = `/api/connections/${CID}`;
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    const headers = new Headers(init?.headers);
    const req: Recorded = { method: init?.method ?? "GET", path, query: url.searchParams,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined, auth: headers.get("authorization") };
    this.requests.push(req);
    const handler = this.routes.get(`${req.method} ${path}`);
    const answer = handler ? await handler(req)
      : { status: 404, body: { error: { code: "not_found", message: `no route ${req.method} ${path}`, field: null } } };
    const body = answer.status === 204 ? null : JSON.stringify(answer.body); // a 204 has no body
    return new Response(body, { status: answer.status, headers: { "Content-Type": "application/json" } });
  };

  client(): ApiClient {
    return new ApiClient({ baseUrl: BASE, connectionId: CID, getToken: () => Promise.resolve("token-1"), fetch: this.fetch });
  }

  calls(method: string, path: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }
}

export const SELLER = { user_id: "u-1", name: "Sam Seller", roles: ["ActiveCampaign User"], is_admin: false, is_seller: true };
export const NON_SELLER = { user_id: "u-2", name: "Nina Norole", roles: [], is_admin: false, is_seller: false };

export const MARKETING = {
  synced: true, reason: null, error: null,
  contact: { id: "42", email: "anna.muller@example.com", first_name: "Anna", last_name: "Müller",
             url: "https://acct.activehosted.com/app/contacts/42" },
  lists: [{ id: "1", name: "Newsletter", status: "active" }, { id: "2", name: "Webinars", status: "unsubscribed" }],
  tags: ["D365: Contact", "VIP"],
  score: 37,
  automations: [{ id: "7", name: "Onboarding", status: "active", started_at: "2026-11-01T09:00:00Z", finished_at: null }],
};

export function activity(i: number, type = "open") {
  return { type, at: new Date(Date.UTC(2026, 10, 30, 12, 0) - i * 3600_000).toISOString(),
           title: `Item ${i}`, url: `https://acct.activehosted.com/app/item/${i}`, detail: null };
}
