import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { CONTACT_ID, FakeApi, MARKETING, NON_SELLER, SELLER, activity } from "../test/fakeApi";
import { LANDMARK, NO_RECORD_ACCESS, NO_ROLE, Panel } from "./Panel";

const RECORD = `/records/contact/${CONTACT_ID}`;

function show(api: FakeApi, inPane = false) {
  return render(
    <FluentProvider theme={webLightTheme}>
      <Panel client={api.client()} entity="contact" id={CONTACT_ID} inPane={inPane} />
    </FluentProvider>,
  );
}

/** Drawn, or there for screen readers only (the host already shows what it says). */
const drawn = (el: HTMLElement) => getComputedStyle(el).position !== "absolute";

function seller(api = new FakeApi()) {
  return api.on("GET", "/me", { status: 200, body: SELLER })
    .on("GET", `${RECORD}/marketing`, { status: 200, body: MARKETING })
    .on("GET", `${RECORD}/activities`, { status: 200, body: { items: [activity(0, "campaign_send"), activity(1)], next_cursor: null } });
}

describe("Panel gating", () => {
  it("shows a user without the role a short explanation and asks for nothing of the record", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 200, body: NON_SELLER });
    show(api);
    expect(await screen.findByText(NO_ROLE)).toBeInTheDocument();
    expect(api.requests.map((r) => r.path)).toEqual(["/me"]);
    expect(screen.queryByRole("button", { name: "Add to automation" })).not.toBeInTheDocument();
  });

  it("shows nothing of a record the user cannot read (403)", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 200, body: SELLER })
      .on("GET", `${RECORD}/marketing`, { status: 403, body: { error: { code: "forbidden", message: "no read access", field: null } } });
    show(api);
    expect(await screen.findByText(NO_RECORD_ACCESS)).toBeInTheDocument();
    expect(screen.queryByText("no read access")).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Timeline" })).not.toBeInTheDocument();
    expect(api.calls("GET", `${RECORD}/activities`)).toHaveLength(0);
  });

  it("treats a 403 from /me as no role", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 403, body: { error: { code: "forbidden", message: "x", field: null } } });
    show(api);
    expect(await screen.findByText(NO_ROLE)).toBeInTheDocument();
  });

  it("says when the environment has no connection", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 404, body: { error: { code: "connection_not_found", message: "no connection contoso", field: null } } });
    show(api);
    expect(await screen.findByText(/not connected to ActiveCampaign/)).toBeInTheDocument();
  });

  it("reports an answer that breaks the contract instead of drawing half a panel", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 200, body: SELLER })
      .on("GET", `${RECORD}/marketing`, { status: 200, body: { ...MARKETING, lists: [{ id: "1", name: "x", status: "gone" }] } });
    show(api);
    expect(await screen.findByText(/marketing\.lists\[0\]\.status is not one of/)).toBeInTheDocument();
  });
});

describe("Panel heading", () => {
  it("in the side pane names the person the panel is about, in a landmark named ActiveCampaign", async () => {
    show(seller(), true);
    const heading = await screen.findByRole("heading", { level: 1, name: "Anna Müller" });
    expect(drawn(heading)).toBe(true);
    expect(screen.getByRole("main", { name: LANDMARK })).toContainElement(heading);
    expect(screen.queryByRole("heading", { name: LANDMARK })).not.toBeInTheDocument();
  });

  it("in the side pane falls back to the email when ActiveCampaign has no name for the person", async () => {
    const api = seller().on("GET", `${RECORD}/marketing`, { status: 200,
      body: { ...MARKETING, contact: { ...MARKETING.contact, first_name: "", last_name: "" } } });
    show(api, true);
    expect(await screen.findByRole("heading", { level: 1, name: MARKETING.contact.email })).toBeInTheDocument();
  });

  it("in a form draws no heading: the form's header names the record, its section the panel", async () => {
    show(seller());
    await screen.findByRole("list", { name: "Lists" });
    const heading = screen.getByRole("heading", { level: 1, name: LANDMARK });
    expect(drawn(heading)).toBe(false);
  });

  it("names nothing of a record the user cannot read: the heading is for screen readers only", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 200, body: SELLER })
      .on("GET", `${RECORD}/marketing`, { status: 403, body: { error: { code: "forbidden", message: "x", field: null } } });
    show(api, true);
    await screen.findByText(NO_RECORD_ACCESS);
    const heading = screen.getByRole("heading", { level: 1, name: LANDMARK });
    expect(drawn(heading)).toBe(false);
    expect(screen.queryByText("Anna Müller")).not.toBeInTheDocument();
  });
});

describe("Panel marketing view and timeline", () => {
  it("shows lists with their status, tags, score and automations, with a bearer token on every call", async () => {
    const api = seller();
    show(api);
    const lists = await screen.findByRole("list", { name: "Lists" });
    expect(within(lists).getByText("Newsletter").parentElement).toHaveTextContent("Subscribed");
    expect(within(lists).getByText("Webinars").parentElement).toHaveTextContent("Unsubscribed");
    expect(within(screen.getByRole("list", { name: "Tags" })).getByText("VIP")).toBeInTheDocument();
    expect(screen.getByText("37")).toBeInTheDocument();
    expect(within(screen.getByRole("list", { name: "Automations" })).getByText("Onboarding")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "anna.muller@example.com" })).toHaveAttribute("href", MARKETING.contact.url);
    expect(api.requests.every((r) => r.auth === "Bearer token-1")).toBe(true);
  });

  it("explains why a record does not sync", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 200, body: SELLER })
      .on("GET", `${RECORD}/marketing`, { status: 200, body: { ...MARKETING, synced: false, reason: "no_email", contact: null,
        lists: [], tags: [], score: null, automations: [] } })
      .on("GET", `${RECORD}/activities`, { status: 200, body: { items: [], next_cursor: null } });
    show(api);
    expect(await screen.findByText(/has no email address/)).toBeInTheDocument();
  });

  it("shows a sync error with the API's message", async () => {
    const api = new FakeApi().on("GET", "/me", { status: 200, body: SELLER })
      .on("GET", `${RECORD}/marketing`, { status: 200, body: { ...MARKETING, synced: false, reason: "error", contact: null,
        error: { code: "import_rejected", message: "AC refused the phone number" }, lists: [], tags: [], score: null, automations: [] } })
      .on("GET", `${RECORD}/activities`, { status: 200, body: { items: [], next_cursor: null } });
    show(api);
    expect(await screen.findByText(/AC refused the phone number/)).toBeInTheDocument();
  });

  it("pages the timeline newest first, each item with its time and a link into AC", async () => {
    const first = Array.from({ length: 20 }, (_, i) => activity(i));
    const api = seller().on("GET", `${RECORD}/activities`, (req) => req.query.get("cursor") === "p2"
      ? { status: 200, body: { items: [activity(20, "click")], next_cursor: null } }
      : { status: 200, body: { items: first, next_cursor: "p2" } });
    show(api);
    const timeline = await screen.findByRole("list", { name: "Marketing activity, newest first" });
    await waitFor(() => expect(within(timeline).getAllByRole("listitem")).toHaveLength(20));
    const top = within(timeline).getAllByRole("listitem")[0] as HTMLElement;
    expect(within(top).getByRole("link", { name: "Item 0" })).toHaveAttribute("href", "https://acct.activehosted.com/app/item/0");
    expect(top.querySelector("time")).toHaveAttribute("dateTime", first[0]?.at);
    await userEvent.click(screen.getByRole("button", { name: "Show older activity" }));
    await waitFor(() => expect(within(timeline).getAllByRole("listitem")).toHaveLength(21));
    expect(within(timeline).getByText(/Clicked/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Show older activity" })).not.toBeInTheDocument();
    expect(api.calls("GET", `${RECORD}/activities`).map((r) => r.query.get("cursor"))).toEqual([null, "p2"]);
  });

  it("shows a site visit as the page visited, without its scheme, and a tracked event with its detail", async () => {
    const visit = { ...activity(0, "site_visit"), title: "https://example.com/pricing#enterprise", url: null };
    const event = { ...activity(1, "event"), title: "webinar_joined", url: null, detail: "December demo" };
    const api = seller().on("GET", `${RECORD}/activities`, { status: 200, body: { items: [visit, event], next_cursor: null } });
    show(api);
    const timeline = await screen.findByRole("list", { name: "Marketing activity, newest first" });
    await waitFor(() => expect(within(timeline).getAllByRole("listitem")).toHaveLength(2));
    const [first, second] = within(timeline).getAllByRole("listitem") as [HTMLElement, HTMLElement];
    expect(first).toHaveTextContent(/^Site visit: example\.com\/pricing#enterprise/);
    expect(second).toHaveTextContent(/^Tracked event: webinar_joined.*December demo$/);
  });

  it("shows a timeline failure in words", async () => {
    const api = seller().on("GET", `${RECORD}/activities`, { status: 503,
      body: { error: { code: "activecampaign_unavailable", message: "activecampaign is unavailable or throttling; try again later", field: null } } });
    show(api);
    expect(await screen.findByText(/unavailable or throttling/)).toBeInTheDocument();
  });
});
