/**
 * The part of the client that is GENERATED from the API's OpenAPI document: `schema.gen.ts`
 * (openapi-typescript) and `openapi.json` (`python -m devtools.openapi_dump`). CI regenerates both
 * and fails when they differ from the committed files; removing or renaming a route the pages use
 * then fails `tsc` here. The seller routes are not in the document yet: see `seller-contract.ts`.
 */
import openapi from "./openapi.json";
import type { components, paths } from "./schema.gen";

export type ConnectionView = components["schemas"]["ConnectionView"];
export type ErrorBody = components["schemas"]["ErrorBody"];

// The routes the pages call today; a route that disappears from the document breaks the build.
type Route<P extends keyof paths, M extends keyof paths[P]> = paths[P][M];
export type ReadConnection = Route<"/api/connections/{connection_id}/connection", "get">;
type Ok<R> = R extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;
export const CONNECTION_READ_RETURNS_CONNECTION_VIEW: Ok<ReadConnection> extends ConnectionView ? true : never = true;

interface PropertySchema { type?: string; anyOf?: { type?: string }[] }
interface ObjectSchema { required?: string[]; properties?: Record<string, PropertySchema> }
const schemas = (openapi as unknown as { components: { schemas: Record<string, ObjectSchema> } }).components.schemas;

function typeOk(value: unknown, prop: PropertySchema): boolean {
  const allowed = prop.anyOf ? prop.anyOf.map((a) => a.type) : [prop.type];
  if (allowed.includes(undefined)) return true;
  if (value === null) return allowed.includes("null");
  if (Array.isArray(value)) return allowed.includes("array");
  const t = typeof value;
  if (t === "number") return allowed.includes("number") || (allowed.includes("integer") && Number.isInteger(value));
  return allowed.includes(t === "object" ? "object" : t);
}

/** Checks `value` against a schema of the document (required properties and their JSON types). */
export function conforms(name: string, value: unknown): string | null {
  const schema = schemas[name];
  if (!schema) return `${name} is not in the API's OpenAPI document`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${name} is not an object`;
  const o = value as Record<string, unknown>;
  for (const key of schema.required ?? []) if (!(key in o)) return `${name}.${key} is missing`;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (key in o && !typeOk(o[key], prop)) return `${name}.${key} has the wrong type`;
  }
  return null;
}

export function parseConnectionView(value: unknown): ConnectionView {
  const problem = conforms("ConnectionView", value);
  if (problem) throw new ContractViolationGenerated(problem);
  return value as ConnectionView;
}

export class ContractViolationGenerated extends Error {
  constructor(message: string) {
    super(`unexpected answer from the API: ${message}`);
    this.name = "ContractViolation";
  }
}
