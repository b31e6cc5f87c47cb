/** Which record the page is about, from its query string. */
import type { Entity } from "../api/seller-contract";

/** The form command's mark in the side pane's `data`: the panel is in the pane, not in a form. */
export const IN_PANE = { placement: "pane" } as const;

export interface RecordRef {
  entity: Entity;
  id: string;
  /** In the side pane (which stays open from record to record), rather than in the record's own form. */
  inPane: boolean;
}

/**
 * A side pane passes `data` (what the form command put there: `typename=contact&id=…&placement=pane`);
 * a web resource placed on a form with "pass record object-type code and unique identifier" gets
 * `typename` and `id` directly (or in a `data` of its own, without the pane's mark). Anything else is
 * not a lead or contact record.
 */
export function recordFromLocation(search: string): RecordRef | null {
  const top = new URLSearchParams(search);
  const inner = top.get("data");
  const params = inner ? new URLSearchParams(inner) : top;
  const entity = params.get("typename");
  const id = (params.get("id") ?? "").replace(/[{}]/g, "").toLowerCase();
  if ((entity !== "lead" && entity !== "contact") || !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(id)) {
    return null;
  }
  return { entity, id, inPane: params.get("placement") === IN_PANE.placement };
}
