import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../test/fakeApi";
import { CONFLICT, CONNECTION, showAdmin } from "./testing";

const RUN = { run_id: "r1", started_at: "2026-12-01T10:00:00Z", finished_at: "2026-12-01T10:01:00Z", status: "finished",
  reason: "timer", counts: {}, api_calls: {}, message: null };

function status(progress: unknown[], global = true, awaiting = 0) {
  return { connection_id: "contoso", connected: true, global_enabled: global, frequency: "2h", progress,
    last_success: { contact: "2026-12-01T10:01:00Z" }, last_runs: [RUN], api_calls_24h: { activecampaign: 12, dynamics: 30 },
    directions: { contact: "push" }, open_errors: 3, awaiting_import: awaiting };
}
const P = (done: number, phase = "initial") => ({ entity: "contact", side: "dynamics", phase, done, total: 200,
  percent: done / 2, eta_seconds: 10, started_at: "2026-12-01T10:00:00Z", finished_at: null });

describe("Dashboard", () => {
  it("shows state, next run, API calls, errors and conflicts with links", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", { status: 200, body: status([P(200, "delta")]) })
      .on("GET", "/conflicts", { status: 200, body: { items: [CONFLICT], next_cursor: "c" } });
    showAdmin(a, "#/dashboard");
    expect(await screen.findByText("Connected")).toBeInTheDocument();
    expect(screen.getAllByText("1 Dec 2026, 12:00 UTC").length).toBeGreaterThan(0); // 10:00 + 2 h
    expect(screen.getByText("ActiveCampaign 12 · Dynamics 30")).toBeInTheDocument();
    expect(screen.getByText("Dynamics → ActiveCampaign")).toBeInTheDocument();
    await userEvent.click(screen.getByText("1+ logged"));
    expect(window.location.hash).toBe("#/health?tab=conflicts");
  });

  it("says the initial sync starts with the next pass once global sync is on, and what it waits for while off", async () => {
    const on = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", { status: 200, body: { ...status([]), last_runs: [] } })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } });
    const { unmount } = showAdmin(on, "#/dashboard");
    expect(await screen.findByText("Not started yet: it starts with the next pass.")).toBeInTheDocument();
    unmount();
    const off = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", { status: 200, body: { ...status([], false), last_runs: [] } })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } });
    showAdmin(off, "#/dashboard");
    expect(await screen.findByText("Not started: it starts when global sync is turned on.")).toBeInTheDocument();
  });

  it("polls while the initial sync runs and stops at 100 %", async () => {
    let n = 0;
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", () => { n += 1; return { status: 200, body: status([n < 2 ? P(100) : P(200, "delta")]) }; })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } });
    showAdmin(a, "#/dashboard");
    expect(await screen.findByText(/100 \/ 200 · 50 %/)).toBeInTheDocument();
    expect(await screen.findByText(/200 \/ 200 · 100 % · done/, {}, { timeout: 6000 })).toBeInTheDocument();
    const calls = a.calls("GET", "/status").length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(a.calls("GET", "/status").length).toBe(calls);
  });

  it("keeps watching after global sync is turned on: before the first read starts, and between a first read and its imports' pass", async () => {
    let n = 0;
    const between = { ...P(200), finished_at: "2026-12-01T10:01:00Z" }; // read done, imports still open
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", () => {
        n += 1;
        return { status: 200, body: status(n < 2 ? [] : n < 3 ? [between] : [P(200, "delta")]) };
      })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } });
    showAdmin(a, "#/dashboard");
    expect(await screen.findByText(/200 \/ 200 · 100 % · done/, {}, { timeout: 8000 })).toBeInTheDocument();
  });

  it("says how many records wait for ActiveCampaign to process their import, and watches until none do", async () => {
    let n = 0;
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", () => { n += 1; return { status: 200, body: status([P(200, "delta")], true, n < 2 ? 60 : 0) }; })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } });
    showAdmin(a, "#/dashboard");
    expect(await screen.findByText(/60 records were sent to ActiveCampaign in bulk imports it has not finished processing/))
      .toBeInTheDocument();
    await waitFor(() => expect(screen.queryByText(/not finished processing/)).toBeNull(), { timeout: 6000 });
  });

  it("does not poll with global sync off and nothing running", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", { status: 200, body: status([], false) })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } });
    showAdmin(a, "#/dashboard");
    expect(await screen.findByText("Connected")).toBeInTheDocument();
    const calls = a.calls("GET", "/status").length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(a.calls("GET", "/status").length).toBe(calls);
  });

  it("queues a pass with Sync now", async () => {
    const a = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/status", { status: 200, body: status([]) })
      .on("GET", "/conflicts", { status: 200, body: { items: [], next_cursor: null } })
      .on("POST", "/sync/now", { status: 202, body: { queued: true, requested_at: "2026-12-01T11:00:00Z" } });
    showAdmin(a, "#/dashboard");
    await userEvent.click(await screen.findByRole("button", { name: "Sync now" }));
    await waitFor(() => expect(screen.getByText(/A pass is queued/)).toBeInTheDocument());
  });
});
