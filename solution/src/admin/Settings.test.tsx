import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../test/fakeApi";
import { fieldOf } from "./Settings";
import { NEEDS_ADMIN_ROLE } from "./Shell";
import { CONNECTION, ERR, showAdmin } from "./testing";

describe("the admin shell", () => {
  it("tells a seller (403) which role the pages need, and shows no page", async () => {
    const api = new FakeApi().on("GET", "/connection", ERR(403, "forbidden", "needs an admin role"));
    showAdmin(api, "#/settings");
    expect(await screen.findByText(NEEDS_ADMIN_ROLE)).toBeInTheDocument();
    expect(screen.queryByRole("tab")).not.toBeInTheDocument();
    expect(screen.queryByText("needs an admin role")).not.toBeInTheDocument();
  });

  it("offers only Settings while there is no connection (404)", async () => {
    const api = new FakeApi().on("GET", "/connection", ERR(404, "connection_not_found", "no connection contoso"));
    showAdmin(api, "#/dashboard");
    expect(await screen.findByRole("heading", { name: "Settings", level: 1 })).toBeInTheDocument();
    expect(screen.getByRole("tab", { name: "Dashboard" })).toBeDisabled();
  });

  it("navigates between pages by the tabs and the hash", async () => {
    const api = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("GET", "/users", { status: 200, body: [] });
    showAdmin(api, "#/settings");
    expect(await screen.findByRole("heading", { name: "Settings", level: 1 })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("tab", { name: "User Management" }));
    expect(await screen.findByRole("heading", { name: "User Management", level: 1 })).toBeInTheDocument();
    expect(window.location.hash).toBe("#/users");
  });
});

describe("Settings", () => {
  it("maps the API's field names to the form's inputs", () => {
    expect(fieldOf("activecampaign_api_key")).toBe("ac_key");
    expect(fieldOf("dynamics_auth.kind")).toBe("kind");
    expect(fieldOf("dynamics_environment_url")).toBe("env_url");
    expect(fieldOf(null)).toBe("form");
  });

  it("shows the saved key masked and never fills it into the form", async () => {
    const api = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION });
    showAdmin(api, "#/settings");
    expect(await screen.findByText("••••••••9f2a")).toBeInTheDocument();
    expect(screen.getByLabelText(/API key/)).toHaveValue("");
    expect(screen.getByLabelText(/API key/)).toHaveAttribute("type", "password");
  });

  it("shows a wrong key's error at the key field, then connects with the right one", async () => {
    const api = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("PUT", "/connection", (req) => (req.body as { activecampaign_api_key: string }).activecampaign_api_key === "good"
        ? { status: 200, body: { ...CONNECTION, activecampaign_api_key: "••••good" } }
        : ERR(422, "activecampaign_auth_failed", "ActiveCampaign refused the API key", "activecampaign_api_key"));
    showAdmin(api, "#/settings");
    const key = await screen.findByLabelText(/API key/);
    await userEvent.type(key, "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(key).toHaveAccessibleDescription(/ActiveCampaign refused the API key/));
    expect(key).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText(/Environment URL/)).not.toHaveAttribute("aria-invalid", "true");
    await userEvent.clear(key);
    await userEvent.type(key, "good");
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    expect(await screen.findByText(/Connected: both systems accepted/)).toBeInTheDocument();
    expect(screen.getByText("••••good")).toBeInTheDocument();
    const sent = api.calls("PUT", "/connection")[1]?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ activecampaign_api_url: CONNECTION.activecampaign_api_url, activecampaign_api_key: "good",
      dynamics_environment_url: CONNECTION.dynamics_environment_url, dynamics_secret: null });
  });

  it("shows an environment error at the environment field", async () => {
    const api = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("PUT", "/connection", ERR(422, "dynamics_unreachable", "the Dynamics environment cannot be reached", "dynamics_environment_url"));
    showAdmin(api, "#/settings");
    await userEvent.type(await screen.findByLabelText(/API key/), "k");
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(screen.getByLabelText(/Environment URL/)).toHaveAccessibleDescription(/cannot be reached/));
  });

  it("disconnects", async () => {
    const api = new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
      .on("DELETE", "/connection", { status: 200, body: { ...CONNECTION, connected: false, activecampaign_api_key: null } });
    showAdmin(api, "#/settings");
    await userEvent.click(await screen.findByRole("button", { name: "Disconnect" }));
    expect(await screen.findByText(/Disconnected/)).toBeInTheDocument();
    const facts = screen.getByText("Status").parentElement as HTMLElement;
    expect(within(facts).getByText("Not connected")).toBeInTheDocument();
  });
});
