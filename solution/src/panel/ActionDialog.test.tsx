import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { CONTACT_ID, FakeApi, MARKETING, SELLER, activity } from "../test/fakeApi";
import { Panel } from "./Panel";

const RECORD = `/records/contact/${CONTACT_ID}`;
const AUTOMATIONS = [{ id: "11", name: "Welcome series" }, { id: "12", name: "Webinar follow-up" }];
const CAMPAIGNS = [{ id: "21", name: "December newsletter" }];
// jsdom: Fluent's modal focus trap (tabster) cannot take focus here and leaves the open dialog
// aria-hidden, so queries inside it include hidden elements. The browser tests query the real
// accessibility tree (and run axe) with the dialog open.
const IN_DIALOG = { hidden: true } as const;

function api() {
  return new FakeApi().on("GET", "/me", { status: 200, body: SELLER })
    .on("GET", `${RECORD}/marketing`, { status: 200, body: MARKETING })
    .on("GET", `${RECORD}/activities`, { status: 200, body: { items: [activity(0)], next_cursor: null } })
    .on("GET", "/automations", (r) => ({ status: 200, body: {
      items: AUTOMATIONS.filter((a) => a.name.toLowerCase().includes((r.query.get("search") ?? "").toLowerCase())),
      next_cursor: null } }))
    .on("GET", "/campaigns", { status: 200, body: { items: CAMPAIGNS, next_cursor: null } });
}

async function open(fake: FakeApi, button: string) {
  render(<FluentProvider theme={webLightTheme}><Panel client={fake.client()} entity="contact" id={CONTACT_ID} /></FluentProvider>);
  await userEvent.click(await screen.findByRole("button", { name: button }));
  return screen.findByRole("dialog", IN_DIALOG);
}

async function pick(label: string, typed: string, option: string, searched?: () => void) {
  const box = screen.getByRole("combobox", { name: label, ...IN_DIALOG });
  await userEvent.click(box);
  await userEvent.paste(typed);
  if (searched) await waitFor(searched); // the debounced search has gone out before the choice
  await userEvent.click(await screen.findByRole("option", { name: option, ...IN_DIALOG }));
}

describe("Add to automation", () => {
  it("searches what was typed, confirms, posts the choice and announces the outcome", async () => {
    const fake = api().on("POST", `${RECORD}/automations`, { status: 200, body: { outcome: "added", contact_id: "42", synced_now: false } });
    await open(fake, "Add to automation");
    // One search on opening, one for what was typed; choosing an option searches nothing more.
    const searches = () => expect(fake.calls("GET", "/automations").map((r) => r.query.get("search"))).toEqual([null, "welc"]);
    await pick("Automation", "welc", "Welcome series", searches);
    searches();
    await userEvent.click(screen.getByRole("button", { name: "Continue", ...IN_DIALOG }));
    expect(screen.getByText("Add Anna Müller to the automation “Welcome series”?")).toBeInTheDocument();
    expect(fake.calls("POST", `${RECORD}/automations`)).toHaveLength(0);
    await userEvent.click(screen.getByRole("button", { name: "Add", ...IN_DIALOG }));
    const outcome = screen.getByTestId("outcome");
    await waitFor(() => expect(outcome).toHaveTextContent("Anna Müller was added to the automation “Welcome series”."));
    expect(outcome).toHaveAttribute("aria-live", "polite");
    expect(fake.calls("POST", `${RECORD}/automations`)[0]?.body).toEqual({ automation_id: "11" });
    await waitFor(() => expect(fake.calls("GET", `${RECORD}/marketing`).length).toBe(2));
    expect(screen.queryByRole("dialog", IN_DIALOG)).not.toBeInTheDocument();
  });

  it("offers only the choices that match what is typed, whatever answer is on hand (an earlier search's)", async () => {
    // The API answers every search with both (as the answer to the opening search is, until the typed one returns).
    const fake = api().on("GET", "/automations", { status: 200, body: { items: AUTOMATIONS, next_cursor: null } });
    await open(fake, "Add to automation");
    await userEvent.click(screen.getByRole("combobox", { name: "Automation", ...IN_DIALOG }));
    expect(await screen.findByRole("option", { name: "Webinar follow-up", ...IN_DIALOG })).toBeInTheDocument();
    await userEvent.paste("welc");
    await waitFor(() => expect(fake.calls("GET", "/automations")).toHaveLength(2));
    expect(screen.queryByRole("option", { name: "Webinar follow-up", ...IN_DIALOG })).not.toBeInTheDocument();
    expect(screen.getByRole("option", { name: "Welcome series", ...IN_DIALOG })).toBeInTheDocument();
  });

  it("shows the API's refusal in words (409 already in the automation)", async () => {
    const fake = api().on("POST", `${RECORD}/automations`, { status: 409, body: { error: {
      code: "already_in_automation", message: "the contact is already in the automation “Webinar follow-up” (active since 2026-12-03T03:26:37-06:00)",
      field: "automation_id" } } });
    await open(fake, "Add to automation");
    await pick("Automation", "web", "Webinar follow-up");
    await userEvent.click(screen.getByRole("button", { name: "Continue", ...IN_DIALOG }));
    await userEvent.click(screen.getByRole("button", { name: "Add", ...IN_DIALOG }));
    await waitFor(() => expect(screen.getByTestId("outcome")).toHaveTextContent(
      "Anna Müller is already in the automation “Webinar follow-up”; nothing was changed."));
    expect(screen.getByTestId("outcome")).not.toHaveTextContent("03:26:37");
  });

  it("cannot continue before a choice, and cancelling posts nothing", async () => {
    const fake = api();
    await open(fake, "Add to automation");
    expect(screen.getByRole("button", { name: "Continue", ...IN_DIALOG })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Cancel", ...IN_DIALOG }));
    expect(screen.queryByRole("dialog", IN_DIALOG)).not.toBeInTheDocument();
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(0);
  });

  it("says when nothing matches, and when the search fails", async () => {
    const fake = api();
    await open(fake, "Add to automation");
    await userEvent.type(screen.getByRole("combobox", { name: "Automation", ...IN_DIALOG }), "zzz");
    expect(await screen.findByText("No automation matches.")).toBeInTheDocument();
    fake.on("GET", "/automations", { status: 503, body: { error: { code: "activecampaign_unavailable", message: "ActiveCampaign is throttling", field: null } } });
    await userEvent.type(screen.getByRole("combobox", { name: "Automation", ...IN_DIALOG }), "z");
    expect(await screen.findByText("ActiveCampaign is throttling")).toBeInTheDocument();
  });
});

describe("Send campaign", () => {
  it("confirms, sends and announces", async () => {
    const fake = api().on("POST", `${RECORD}/campaigns`, { status: 200, body: { outcome: "sent", contact_id: "42" } });
    await open(fake, "Send campaign");
    await pick("Campaign", "dec", "December newsletter");
    await userEvent.click(screen.getByRole("button", { name: "Continue", ...IN_DIALOG }));
    expect(screen.getByText("Send the campaign “December newsletter” to Anna Müller now?")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Send", ...IN_DIALOG }));
    await waitFor(() => expect(screen.getByTestId("outcome")).toHaveTextContent("The campaign “December newsletter” was sent to Anna Müller."));
    expect(fake.calls("POST", `${RECORD}/campaigns`)[0]?.body).toEqual({ campaign_id: "21" });
  });

  it("shows ActiveCampaign's reason when it refuses", async () => {
    const fake = api().on("POST", `${RECORD}/campaigns`, { status: 422, body: { error: {
      code: "campaign_refused", message: "the campaign is not a single-send campaign", field: "campaign_id" } } });
    await open(fake, "Send campaign");
    await pick("Campaign", "dec", "December newsletter");
    await userEvent.click(screen.getByRole("button", { name: "Continue", ...IN_DIALOG }));
    await userEvent.click(screen.getByRole("button", { name: "Send", ...IN_DIALOG }));
    await waitFor(() => expect(screen.getByTestId("outcome")).toHaveTextContent(
      "The campaign “December newsletter” was not sent: the campaign is not a single-send campaign"));
  });
});
