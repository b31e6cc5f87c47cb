import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../test/fakeApi";
import { CONFLICT, CONNECTION, showAdmin } from "./testing";

const VIEW = { global_enabled: false, frequency: "1h", initial_sync: "not_started", progress: [] };
const ERROR = { entity: "contact", side: "dynamics", record_id: "c-1", code: "invalid_email", cause: "AC refused the email",
  attempts: 2, retriable: true, first_seen: null, last_seen: null, next_retry: "2026-12-01T12:00:00Z" };
describe("Sync Settings", () => {
  it("turns global sync on and sets the frequency", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/sync", { status: 200, body: VIEW })
      .on("PUT", "/sync", (req) => ({ status: 200, body: { ...VIEW, ...(req.body as object), initial_sync: "running" } }));
    showAdmin(a, "#/sync");
    await userEvent.click(await screen.findByRole("switch", { name: "Global sync" }));
    expect(await screen.findByText(/Global sync is on/)).toBeInTheDocument();
    expect(screen.getByText(/Running: the Dashboard shows/)).toBeInTheDocument();
    expect(screen.getAllByRole("radio").map((r) => r.getAttribute("value"))).toEqual(["1h", "2h", "4h", "6h", "8h", "12h", "daily"]);
    await userEvent.click(screen.getByRole("radio", { name: "Daily" }));
    await waitFor(() => expect(a.calls("PUT", "/sync").map((r) => r.body)).toEqual([{ global_enabled: true }, { frequency: "daily" }]));
  });

  it("does not say the initial sync waits for global sync once global sync is on", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/sync", { status: 200, body: { ...VIEW, global_enabled: true } });
    showAdmin(a, "#/sync");
    expect(await screen.findByText("Not started yet: it starts with the next pass.")).toBeInTheDocument();
    expect(screen.queryByText(/when global sync is turned on/)).not.toBeInTheDocument();
  });
});

describe("Sync health", () => {
  it("filters the errors, retries one and all shown", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/errors", { status: 200, body: [ERROR] })
      .on("POST", "/errors/retry", { status: 200, body: { scheduled: 1 } });
    showAdmin(a, "#/health");
    await userEvent.click(await screen.findByRole("button", { name: "Retry contact c-1" }));
    expect(await screen.findByText("1 record(s) will be retried in the next pass.")).toBeInTheDocument();
    expect(a.calls("POST", "/errors/retry")[0]?.body).toEqual({ entity: "contact", side: "dynamics", record_id: "c-1" });
    await userEvent.click(screen.getByRole("combobox", { name: "Side" }));
    await userEvent.click(screen.getByRole("option", { name: "Dynamics" }));
    await waitFor(() => expect(a.calls("GET", "/errors").at(-1)?.query.get("side")).toBe("dynamics"));
    await userEvent.click(screen.getByRole("button", { name: "Retry all shown" }));
    await waitFor(() => expect(a.calls("POST", "/errors/retry")[1]?.body).toEqual({ entity: null, side: "dynamics", record_id: null }));
  });

  it("reads a conflict and opens the record's history from it", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/conflicts", { status: 200, body: { items: [CONFLICT], next_cursor: null } })
      .on("GET", "/records/contact/c-9/history", { status: 200, body: { entity: "contact", dynamics_id: "c-9", ac_id: "42",
        email: "x@y.com", items: [{ at: "2026-12-01T10:00:00Z", run_id: "r1", direction: "pull", why: "conflict:newest_wins",
          changes: [{ field: "telephone1", from: "+44 1", to: "+44 2" }] }] } });
    showAdmin(a, "#/health?tab=conflicts");
    const log = await screen.findByRole("table", { name: "Conflict log" });
    expect(within(log).getByText(/newest wins: ActiveCampaign kept/)).toBeInTheDocument();
    await userEvent.click(within(log).getByRole("button", { name: "History of contact c-9" }));
    const history = await screen.findByRole("table", { name: "Record history" });
    expect(within(history).getByText("telephone1: +44 1 → +44 2")).toBeInTheDocument();
    expect(within(history).getByText("ActiveCampaign → Dynamics")).toBeInTheDocument();
  });
});
