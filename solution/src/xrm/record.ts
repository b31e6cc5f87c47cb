/** Which record the page is about, from its query string. */
import type { Entity } from "../api/seller-contract";

/**
 * A side pane passes `data` (what the form command put there: `typename=contact&id=…`); a web
 * resource placed on a form with "pass record object-type code and unique identifier" gets
 * `typename` and `id` directly. Anything else is not a lead or contact record.
 */
export function recordFromLocation(search: string): { entity: Entity; id: string } | null {
  const top = new URLSearchParams(search);
  const inner = top.get("data");
  const params = inner ? new URLSearchParams(inner) : top;
  const entity = params.get("typename");
  const id = (params.get("id") ?? "").replace(/[{}]/g, "").toLowerCase();
  if ((entity !== "lead" && entity !== "contact") || !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(id)) {
    return null;
  }
  return { entity, id };
}
