import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../test/fakeApi";
import { Vocabulary, normalPath } from "./config/model";
import { CONNECTION, ERR, showAdmin } from "./testing";

const entity = (enabled: boolean) => ({ enabled, direction: "push", scope: "all", criteria: [], custom_filter: null,
  standard: {}, custom: [], constants: {}, conflict: "newest_wins" });
const CONFIG = { connection_id: "contoso", etag: "e1", config: {
  entities: { contacts: entity(true), leads: entity(false), accounts: entity(false), opportunities: entity(false) },
  push: { list_ids: [], exclude_automations: true, subscribe: true, tag_contact: "D365: Contact", tag_lead: "D365: Lead", tag_pushed: "D365" },
} };
const F = (name: string, type: string) => ({ name, type, required: false, label: null, options: null });
const FIELDS = { entity: "lead", field: null, candidates: null, activecampaign: [],
  dynamics: [F("emailaddress1", "StringType"), F("lastname", "StringType"), F("numberofemployees", "IntegerType"), F("parentaccountid", "LookupType"),
    { ...F("leadsourcecode", "PicklistType"), options: ["1:Advertisement", "2:Employee Referral", "3:External Referral"] },
    { ...F("donotemail", "BooleanType"), options: ["0:Allow", "1:Do Not Allow"] }] };

// As GET …/vocabulary answers (a part of it): the page offers what this says, nothing of its own.
const TEXT = ["eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "is_empty", "is_not_empty", "in"];
const ORDERED = ["eq", "ne", "gt", "ge", "lt", "le", "is_empty", "is_not_empty", "in"];
const STD = (key: string, dynamics: string, activecampaign: string, locked = false) => ({ key, dynamics, activecampaign, locked });
const VOCAB = {
  operators: [...ORDERED, "contains", "not_contains", "starts_with", "ends_with"].map((operator) => ({ operator,
    value: operator.startsWith("is_") ? "none" : operator === "in" ? "list" : "one" })),
  column_types: [{ type: "StringType", value: "text", operators: TEXT }, { type: "IntegerType", value: "whole_number", operators: ORDERED },
    { type: "BooleanType", value: "yes_no", operators: ["eq", "ne", "is_empty", "is_not_empty", "in"] },
    { type: "PicklistType", value: "whole_number", operators: ["eq", "ne", "is_empty", "is_not_empty", "in"] }],
  other_types: ["is_empty", "is_not_empty"],
  entities: [
    { entity: "contact", config_key: "contacts", standard: [STD("email", "emailaddress1", "email", true),
      STD("account", "parentcustomerid", "account", true), STD("phone", "telephone1", "phone")] },
    { entity: "lead", config_key: "leads", standard: [STD("email", "emailaddress1", "email", true), STD("lastName", "lastname", "lastName")] },
    { entity: "account", config_key: "accounts", standard: [STD("name", "name", "name", true)] },
    { entity: "opportunity", config_key: "opportunities", standard: [STD("name", "name", "name", true)] },
  ],
};

function api(vocabulary: unknown = VOCAB) {
  return new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
    .on("GET", "/config", { status: 200, body: CONFIG })
    .on("GET", "/vocabulary", { status: 200, body: vocabulary })
    .on("GET", "/fields/lead", (req) => ({ status: 200, body: req.query.get("field") === "lastname"
      ? { ...FIELDS, field: "lastname", candidates: ["lastName", "field:7"] } : FIELDS }))
    .on("GET", "/fields/contact", { status: 200, body: { ...FIELDS, entity: "contact" } });
}

async function pick(name: string | RegExp, option: string, within_: HTMLElement = document.body) {
  await userEvent.click(within(within_).getByRole("combobox", { name }));
  await userEvent.click(await screen.findByRole("option", { name: option }));
}

/** The page with leads turned on, synced by criteria, once the lead's fields are read: the leads' section. */
async function leadsByCriteria(a: FakeApi): Promise<HTMLElement> {
  showAdmin(a, "#/data");
  const leads = await screen.findByRole("region", { name: "Leads" });
  await userEvent.click(within(leads).getByRole("switch", { name: "Sync leads" }));
  await userEvent.click(within(leads).getByRole("radio", { name: "Only those matching criteria" }));
  await waitFor(() => expect(a.calls("GET", "/fields/lead")).toHaveLength(1));
  return leads;
}

describe("the vocabulary", () => {
  const v = new Vocabulary(VOCAB as ConstructorParameters<typeof Vocabulary>[0]);
  it("offers the operators the API lists for a type, and only the valueless ones for a type it does not list", () => {
    expect(v.operatorsFor("IntegerType")).toEqual(ORDERED);
    expect(v.operatorsFor("MultiSelectPicklistType")).toEqual(["is_empty", "is_not_empty"]);
    expect(v.takesValue("is_not_empty")).toBe(false);
    expect(v.standard("lead").map((f) => f.dynamics)).toEqual(["emailaddress1", "lastname"]);
  });
  it("types the value from the column's kind and what the operator takes", () => {
    expect(v.valueOf("250", "IntegerType", "gt")).toBe(250);
    expect(v.valueOf("250", "StringType", "eq")).toBe("250");
    expect(v.valueOf("true", "BooleanType", "eq")).toBe(true);
    expect(v.valueOf("a, b", "StringType", "in")).toEqual(["a", "b"]);
    expect(v.valueOf("1, 2", "IntegerType", "in")).toEqual([1, 2]);
    expect(v.valueOf("x", "StringType", "is_empty")).toBeNull();
    expect(normalPath("config.entities.leads.criteria.0.value")).toBe("entities.leads.criteria[0].value");
  });
});

describe("Data Configuration", () => {
  it("configures leads with two criteria rows, removes one, previews, then saves what was previewed", async () => {
    const a = api()
      .on("POST", "/config/preview", { status: 200, body: { job_id: "j1", kind: "preview", status: "done", started_at: "2026-12-01T10:00:00Z",
        finished_at: "2026-12-01T10:00:01Z", elapsed_seconds: 1, progress: "done", changes: [{ path: "entities.leads.enabled", before: false, after: true }],
        issues: [], counts: [{ entity: "lead", counts: { would_create: 7, out_of_scope: 3 } }],
        samples: [{ entity: "lead", dynamics_id: "l1", email: "a@x.com", name: "Ada Lovelace", outcome: "would_create" }],
        api_calls: {}, message: null } })
      .on("PUT", "/config", (req) => ({ status: 200, body: { ...CONFIG, etag: "e2", config: (req.body as { config: unknown }).config } }));
    const leads = await leadsByCriteria(a);
    await userEvent.click(within(leads).getByRole("button", { name: "Add criterion" }));
    await userEvent.click(within(leads).getByRole("button", { name: "Add criterion" }));
    await pick("Field 1", "lastname", leads);
    await pick("Operator 1", "contains", leads);
    await userEvent.type(within(leads).getByRole("textbox", { name: "Value 1" }), "son");
    await pick("Field 2", "numberofemployees", leads);
    await userEvent.click(within(leads).getByRole("combobox", { name: "Operator 2" }));
    expect(screen.queryByRole("option", { name: "contains" })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("option", { name: "greater than" }));
    await userEvent.type(within(leads).getByRole("textbox", { name: "Value 2" }), "50");
    await userEvent.click(within(leads).getByRole("button", { name: "Remove criterion 2" }));
    expect(within(leads).queryByRole("textbox", { name: "Value 2" })).not.toBeInTheDocument();
    expect(screen.getByText("Unsaved changes")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Preview" }));
    const counts = await screen.findByRole("table", { name: "What the next sync would do" });
    expect(within(counts).getByText("7")).toBeInTheDocument();
    expect(screen.getByText("Ada Lovelace")).toBeInTheDocument();
    const previewed = a.calls("POST", "/config/preview")[0]?.body as { config: { entities: { leads: unknown } }; etag: string };
    expect(previewed.etag).toBe("e1");
    expect(previewed.config.entities.leads).toMatchObject({ enabled: true, scope: "criteria",
      criteria: [{ field: "lastname", operator: "contains", value: "son" }] });

    await userEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText(/Saved\. The next sync uses/)).toBeInTheDocument();
    expect((a.calls("PUT", "/config")[0]?.body as { config: unknown }).config).toEqual(previewed.config);
    expect(screen.queryByText("Unsaved changes")).not.toBeInTheDocument();
  }, 120_000);

  it("offers a choice column's options for its value, not a number box, and sends the option values", async () => {
    const a = api().on("POST", "/config/preview", { status: 200, body: { job_id: "j1", kind: "preview", status: "done",
      started_at: null, finished_at: null, elapsed_seconds: 1, progress: "done", changes: [], issues: [], counts: [], samples: [],
      api_calls: {}, message: null } });
    const leads = await leadsByCriteria(a);
    await userEvent.click(within(leads).getByRole("button", { name: "Add criterion" }));
    await pick("Field 1", "donotemail", leads); // its options are not its values (true/false): a text box still
    expect(within(leads).getByRole("textbox", { name: "Value 1" })).toBeInTheDocument();
    await pick("Field 1", "leadsourcecode", leads);
    expect(within(leads).queryByRole("textbox", { name: "Value 1" })).not.toBeInTheDocument();
    await userEvent.click(within(leads).getByRole("combobox", { name: "Value 1" }));
    expect((await screen.findAllByRole("option")).map((o) => o.textContent))
      .toEqual(["Advertisement (1)", "Employee Referral (2)", "External Referral (3)"]);
    await userEvent.click(screen.getByRole("option", { name: "Employee Referral (2)" }));
    expect(within(leads).getByRole("combobox", { name: "Value 1" })).toHaveValue("Employee Referral (2)");
    await userEvent.click(screen.getByRole("button", { name: "Preview" }));
    await waitFor(() => expect(a.calls("POST", "/config/preview")).toHaveLength(1));
    const sent = (b: unknown) => (b as { config: { entities: { leads: { criteria: unknown } } } }).config.entities.leads.criteria;
    expect(sent(a.calls("POST", "/config/preview")[0]?.body)).toEqual([{ field: "leadsourcecode", operator: "eq", value: 2 }]);

    await pick("Operator 1", "is one of", leads);
    await userEvent.click(within(leads).getByRole("combobox", { name: "Value 1" }));
    // A multiselect's options are checkboxes (Fluent's role for them); the one chosen before stays chosen.
    expect(screen.getByRole("menuitemcheckbox", { name: "Employee Referral (2)" })).toHaveAttribute("aria-checked", "true");
    await userEvent.click(screen.getByRole("menuitemcheckbox", { name: "Advertisement (1)" }));
    await userEvent.keyboard("{Escape}");
    await userEvent.click(screen.getByRole("button", { name: "Preview" }));
    await waitFor(() => expect(a.calls("POST", "/config/preview")).toHaveLength(2));
    expect(sent(a.calls("POST", "/config/preview")[1]?.body)).toEqual([{ field: "leadsourcecode", operator: "in", value: [2, 1] }]);

    // Back to one value: the first chosen option is kept, not "2, 1" (which no option is, and the API refuses).
    await pick("Operator 1", "equals", leads);
    expect(within(leads).getByRole("combobox", { name: "Value 1" })).toHaveValue("Employee Referral (2)");
    await userEvent.click(screen.getByRole("button", { name: "Preview" }));
    await waitFor(() => expect(a.calls("POST", "/config/preview")).toHaveLength(3));
    expect(sent(a.calls("POST", "/config/preview")[2]?.body)).toEqual([{ field: "leadsourcecode", operator: "eq", value: 2 }]);
  }, 60_000);

  it("shows the API's refusal at the criterion's value", async () => {
    const leadsOn = { ...CONFIG, config: { ...CONFIG.config, entities: { ...CONFIG.config.entities,
      leads: { ...entity(true), scope: "criteria", criteria: [{ field: "numberofemployees", operator: "gt", value: "many" }] } } } };
    const a = api().on("GET", "/config", { status: 200, body: leadsOn })
      .on("PUT", "/config", ERR(422, "invalid_config", "numberofemployees takes a whole number", "entities.leads.criteria[0].value",
        [{ code: "invalid_config", message: "numberofemployees takes a whole number", field: "entities.leads.criteria[0].value" }]));
    showAdmin(a, "#/data");
    const leads = await screen.findByRole("region", { name: "Leads" });
    await userEvent.type(within(leads).getByRole("textbox", { name: "Value 1" }), "!");
    await userEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(within(leads).getByRole("textbox", { name: "Value 1" }))
      .toHaveAccessibleDescription(/takes a whole number/));
  });

  it("keeps Email locked on and lets a standard mapping be turned off", async () => {
    showAdmin(api(), "#/data");
    const contacts = await screen.findByRole("region", { name: "Contacts" });
    const email = within(contacts).getByRole("switch", { name: /emailaddress1.*always on/ });
    expect(email).toBeChecked();
    expect(email).toBeDisabled();
    expect(within(contacts).getByRole("switch", { name: /parentcustomerid.*always on/ })).toBeDisabled();
    const phone = within(contacts).getByRole("switch", { name: "Sync telephone1 (Contacts)" });
    await userEvent.click(phone);
    expect(phone).not.toBeChecked();
  });

  it("offers only the API's compatible candidates for a custom mapping", async () => {
    const leadsOn = { ...CONFIG, config: { ...CONFIG.config, entities: { ...CONFIG.config.entities, leads: entity(true) } } };
    showAdmin(api().on("GET", "/config", { status: 200, body: leadsOn }), "#/data");
    const leads = await screen.findByRole("region", { name: "Leads" });
    await userEvent.click(within(leads).getByRole("button", { name: "Add custom mapping" }));
    await pick("Dynamics field 1", "lastname", leads);
    await userEvent.click(within(leads).getByRole("combobox", { name: "ActiveCampaign field 1" }));
    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["lastName", "field:7"]);
  });

  it("offers what the API's vocabulary says, not a copy of its own", async () => {
    const only = { ...VOCAB, column_types: [{ type: "IntegerType", value: "whole_number", operators: ["eq", "le"] }],
      entities: VOCAB.entities.map((e) => e.entity === "lead" ? { ...e, standard: [STD("mobile", "mobilephone", "phone", true)] } : e) };
    const leadsOn = { ...CONFIG, config: { ...CONFIG.config, entities: { ...CONFIG.config.entities,
      leads: { ...entity(true), scope: "criteria" } } } };
    const a = api(only).on("GET", "/config", { status: 200, body: leadsOn });
    showAdmin(a, "#/data");
    const leads = await screen.findByRole("region", { name: "Leads" });
    await waitFor(() => expect(a.calls("GET", "/fields/lead")).toHaveLength(1));
    const standard = within(leads).getByRole("table", { name: "Leads standard mappings" });
    expect(within(standard).getAllByRole("row").slice(1).map((r) => r.textContent)).toEqual([expect.stringMatching(/^mobilephonephone/)]);
    await userEvent.click(within(leads).getByRole("button", { name: "Add criterion" }));
    await pick("Field 1", "numberofemployees", leads);
    await userEvent.click(within(leads).getByRole("combobox", { name: "Operator 1" }));
    expect((await screen.findAllByRole("option")).map((o) => o.textContent)).toEqual(["equals", "at most"]);
    await userEvent.click(screen.getByRole("option", { name: "at most" }));
    await pick("Field 1", "lastname", leads); // a type the vocabulary does not list: no value to compare
    expect(within(leads).getByRole("combobox", { name: "Operator 1" })).toHaveValue("is empty");
    expect(within(leads).getByRole("textbox", { name: "Value 1" })).toBeDisabled();
    // Says why it is empty (a disabled box looks much like one waiting for a value).
    expect(within(leads).getByRole("textbox", { name: "Value 1" })).toHaveAttribute("placeholder", "none needed");
  });

  it("says so when the vocabulary cannot be read", async () => {
    showAdmin(api().on("GET", "/vocabulary", ERR(503, "dynamics_unavailable", "Dynamics did not answer")), "#/data");
    expect(await screen.findByRole("alert")).toHaveTextContent("Dynamics did not answer");
  });

  it("asks before leaving with unsaved changes", async () => {
    const a = api().on("GET", "/users", { status: 200, body: [] });
    showAdmin(a, "#/data");
    const contacts = await screen.findByRole("region", { name: "Contacts" });
    await userEvent.click(within(contacts).getByRole("switch", { name: "Sync contacts" }));
    expect(await screen.findByText("Unsaved changes")).toBeInTheDocument();
    await askToLeave("first");
    await userEvent.click(await screen.findByRole("button", { name: "Stay on this page" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(screen.getByText("Unsaved changes")).toBeInTheDocument();
    await askToLeave("again");
    await userEvent.click(await screen.findByRole("button", { name: "Leave and discard changes" }));
    expect(await screen.findByRole("heading", { name: "User Management", level: 1 })).toBeInTheDocument();
  });
});

/** Clicks User Management (again only while no dialog is open) until the guard asks; the page must never be
 *  left meanwhile. Under load a click that lands while Fluent's dialog is still closing navigates nowhere. */
async function askToLeave(attempt: string) {
  await waitFor(async () => {
    expect(screen.getByRole("heading", { name: "Data Configuration", level: 1 })).toBeInTheDocument();
    if (!screen.queryByRole("dialog")) { // a click while a dialog opens would close it (a click outside)
      await userEvent.click(screen.getByRole("tab", { name: "User Management" }));
    }
    expect(screen.queryByRole("dialog", { name: "Leave without saving?" }), `ask ${attempt}`).not.toBeNull();
  });
}
