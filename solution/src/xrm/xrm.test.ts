import { describe, expect, it, vi } from "vitest";
import { openPanel, PANE_ID, PANEL } from "../commands/commands";
import { recordFromLocation } from "./record";
import { SETTINGS_QUERY, SettingsMissing, readSettings } from "./settings";
import type { XrmNamespace, XrmWebApi } from "./xrm";

const ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

describe("recordFromLocation", () => {
  it("reads the side pane's data parameter and a form web resource's typename/id", () => {
    expect(recordFromLocation(`?data=${encodeURIComponent(`typename=contact&id={${ID.toUpperCase()}}`)}`))
      .toEqual({ entity: "contact", id: ID, inPane: false });
    expect(recordFromLocation(`?typename=lead&id=%7B${ID}%7D&orgname=x`)).toEqual({ entity: "lead", id: ID, inPane: false });
  });
  it("refuses other tables and malformed ids", () => {
    expect(recordFromLocation(`?typename=account&id=${ID}`)).toBeNull();
    expect(recordFromLocation("?typename=contact&id=1234")).toBeNull();
    expect(recordFromLocation("")).toBeNull();
  });
});

function webApi(rows: Record<string, unknown>[]): XrmWebApi & { queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    retrieveRecord: () => Promise.reject(new Error("unused")),
    retrieveMultipleRecords: (entity, options) => {
      queries.push(`${entity}${options ?? ""}`);
      return Promise.resolve({ entities: rows });
    },
  };
}

const def = (schemaname: string, defaultvalue: string | null, value?: string) => ({
  schemaname, defaultvalue, environmentvariabledefinition_environmentvariablevalue: value === undefined ? [] : [{ value }],
});

describe("readSettings", () => {
  it("takes the current value over the default, in one query", async () => {
    const api = webApi([def("acds_ApiUrl", "https://default", "https://sync.contoso.com"), def("acds_ConnectionId", "contoso"),
      def("acds_ApiClientId", "cid"), def("acds_ApiScope", "api://x/access_as_user"),
      def("acds_Authority", "https://login.microsoftonline.com/t")]);
    expect(await readSettings(api)).toEqual({ apiUrl: "https://sync.contoso.com", connectionId: "contoso", clientId: "cid",
      scope: "api://x/access_as_user", authority: "https://login.microsoftonline.com/t" });
    expect(api.queries).toEqual([`environmentvariabledefinition${SETTINGS_QUERY}`]);
  });
  it("names every setting that has no value", async () => {
    const err = await readSettings(webApi([def("acds_ApiUrl", "https://x"), def("acds_ConnectionId", " ")])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SettingsMissing);
    expect((err as SettingsMissing).names).toEqual(["acds_ConnectionId", "acds_ApiClientId", "acds_ApiScope", "acds_Authority"]);
  });
});

describe("the form command", () => {
  it("opens the panel for the form's record in one side pane of side-pane width", async () => {
    const navigate = vi.fn(() => Promise.resolve());
    const createPane = vi.fn(() => Promise.resolve({ paneId: PANE_ID, navigate, close: vi.fn() }));
    const xrm = { App: { sidePanes: { createPane, getPane: () => undefined } } } as unknown as XrmNamespace;
    const form = { data: { entity: { getId: () => `{${ID.toUpperCase()}}`, getEntityName: () => "lead" } } };
    await openPanel(form, xrm);
    expect(createPane).toHaveBeenCalledWith(expect.objectContaining({ paneId: PANE_ID, width: 340 }));
    expect(navigate).toHaveBeenCalledWith({ pageType: "webresource", webresourceName: PANEL,
      data: `typename=lead&id=${ID.toUpperCase()}&placement=pane` });
    expect(recordFromLocation(`?data=${encodeURIComponent(`typename=lead&id=${ID.toUpperCase()}&placement=pane`)}`))
      .toEqual({ entity: "lead", id: ID, inPane: true });
  });
});
