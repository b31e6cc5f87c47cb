/**
 * The hand-written seller contract (`seller-contract.ts`) against the API's generated types (`schema.gen.ts`,
 * from the OpenAPI document the seller routes are now in): every type must be the same both ways, so a change
 * on either side fails `tsc` here (and the routes the panel calls must exist in the document).
 */
import { describe, expect, it } from "vitest";
import type { components, paths } from "./schema.gen";
import type * as C from "./seller-contract";

type S = components["schemas"];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Page<T> = { items: T[]; next_cursor: string | null };

const checks: Record<string, true> = {
  Me: true satisfies Same<C.Me, S["Me"]>,
  MarketingContact: true satisfies Same<C.MarketingContact, S["MarketingContact"]>,
  ListMembership: true satisfies Same<C.ListMembership, S["ListMembership"]>,
  AutomationRun: true satisfies Same<C.AutomationRun, S["AutomationRun"]>,
  Marketing: true satisfies Same<C.Marketing, S["Marketing"]>,
  Activity: true satisfies Same<C.Activity, S["Activity"]>,
  ActivityPage: true satisfies Same<C.ActivityPage, S["ActivityPage"]>,
  ChoicePage: true satisfies Same<Page<C.Choice>, S["ChoicePage"]>,
  AutomationAdded: true satisfies Same<C.AutomationAdded, S["AutomationAdded"]>,
  CampaignSent: true satisfies Same<C.CampaignSent, S["CampaignSent"]>,
  ErrorDetail: true satisfies Same<C.ApiErrorDetail, S["ErrorDetail"]>,
};

type R = "/api/connections/{connection_id}/records/{entity}/{dynamics_id}";
type Routes = [
  paths["/api/connections/{connection_id}/me"]["get"],
  paths[`${R}/marketing`]["get"],
  paths[`${R}/activities`]["get"],
  paths[`${R}/automations`]["post"],
  paths[`${R}/campaigns`]["post"],
  paths["/api/connections/{connection_id}/automations"]["get"],
  paths["/api/connections/{connection_id}/campaigns"]["get"],
];
const ROUTES: Routes["length"] = 7;

describe("the seller contract", () => {
  it("is the API's generated types, both ways, and its routes are in the document", () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
    expect(ROUTES).toBe(7);
  });
});
