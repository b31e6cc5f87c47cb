import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../test/fakeApi";
import { CONNECTION, showAdmin } from "./testing";

const ANNA = { user_id: "8d4c2b1a-0000-4000-8000-000000000001", full_name: "Anna Admin", email: "anna@contoso.com", domain_name: "anna@contoso.com" };
const SAM = { user_id: "8d4c2b1a-0000-4000-8000-000000000002", full_name: "Sam Seller", email: "sam@contoso.com", domain_name: "sam@contoso.com" };
const TINA = { user_id: "8d4c2b1a-0000-4000-8000-000000000003", full_name: "Tina Team", email: null, domain_name: null };

function api(holders: unknown[] = []) {
  return new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
    .on("GET", "/users", { status: 200, body: holders })
    .on("GET", "/users/search", (req) => ({ status: 200, body: [SAM].filter((u) => u.full_name.toLowerCase().includes((req.query.get("q") ?? "").toLowerCase())) }));
}

describe("User Management", () => {
  it("searches once the typing pauses (debounced), not per key", async () => {
    const a = api();
    showAdmin(a, "#/users");
    await userEvent.type(await screen.findByRole("searchbox", { name: /Find a Dynamics user/ }), "sam");
    expect(await screen.findByRole("button", { name: /Sam Seller/ })).toBeInTheDocument();
    expect(a.calls("GET", "/users/search").map((r) => r.query.get("q"))).toEqual(["sam"]);
  });

  it("adds the user found with the role chosen and lists them", async () => {
    let holders: unknown[] = [];
    const a = api().on("GET", "/users", () => ({ status: 200, body: holders }))
      .on("POST", "/users", (req) => {
        holders = [{ user: SAM, roles: [{ role: "ActiveCampaign Admin", via: "direct", team: null }] }];
        return { status: 200, body: { user: SAM, roles: [{ role: (req.body as { role: string }).role, via: "direct", team: null }] } };
      });
    showAdmin(a, "#/users");
    await userEvent.type(await screen.findByRole("searchbox"), "sam");
    await userEvent.click(await screen.findByRole("button", { name: /Sam Seller/ }));
    await userEvent.click(screen.getByRole("combobox", { name: "Role" }));
    await userEvent.click(screen.getByRole("option", { name: "ActiveCampaign Admin" }));
    await userEvent.click(screen.getByRole("button", { name: "Add Sam Seller" }));
    expect(await screen.findByText("Sam Seller now holds ActiveCampaign Admin.")).toBeInTheDocument();
    expect(a.calls("POST", "/users")[0]?.body).toEqual({ user_id: SAM.user_id, role: "ActiveCampaign Admin" });
    const table = await screen.findByRole("table", { name: "Who has access" });
    await waitFor(() => expect(within(table).getByText("Sam Seller")).toBeInTheDocument());
  });

  it("lists holders direct and through a team; only a direct role can be removed here", async () => {
    const a = api([
      { user: ANNA, roles: [{ role: "ActiveCampaign Admin", via: "direct", team: null }] },
      { user: TINA, roles: [{ role: "ActiveCampaign User", via: "team", team: "Sales" }] },
    ]).on("DELETE", `/users/${ANNA.user_id}/roles/admin`, { status: 204, body: null });
    showAdmin(a, "#/users");
    const table = await screen.findByRole("table", { name: "Who has access" });
    expect(within(table).getByText(/through team Sales/)).toBeInTheDocument();
    expect(within(table).queryByRole("button", { name: /Remove ActiveCampaign User from Tina Team/ })).not.toBeInTheDocument();
    await userEvent.click(within(table).getByRole("button", { name: "Remove ActiveCampaign Admin from Anna Admin" }));
    expect(await screen.findByText(/Anna Admin no longer holds ActiveCampaign Admin/)).toBeInTheDocument();
    expect(a.calls("DELETE", `/users/${ANNA.user_id}/roles/admin`)).toHaveLength(1);
  });
});
