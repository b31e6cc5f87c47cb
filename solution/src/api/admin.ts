/**
 * The admin routes the pages call, typed from the GENERATED OpenAPI types (`schema.gen.ts`): each
 * route is named by its documented path (a route that disappears breaks `tsc` here) and each answer
 * is checked at run time against its schema in `openapi.json`.
 */
import { type ApiClient } from "./client";
import { ContractViolationGenerated, conforms } from "./generated";
import type { components, paths } from "./schema.gen";

type S = components["schemas"];
export type ConnectionView = S["ConnectionView"];
export type ConnectRequest = S["ConnectRequest"];
export type DynamicsUser = S["DynamicsUser"];
export type RoleHolder = S["RoleHolder"];
export type ProductRole = S["AssignRole"]["role"];
export type DataConfig = S["DataConfig"];
export type ConfigView = S["ConfigView"];
export type EntityMapping = S["EntityMapping"];
export type Condition = S["Condition"];
export type FieldMapping = S["FieldMapping"];
export type FieldsView = S["FieldsView"];
export type FieldInfo = S["FieldInfo"];
export type JobView = S["JobView"];
export type VocabularyView = S["VocabularyView"];
export type StandardMapping = S["StandardMapping"];
export type ValueKind = S["ColumnType"]["value"];
export type SyncSettingsView = S["SyncSettingsView"];
export type SyncSettingsUpdate = S["SyncSettingsUpdate"];
export type Frequency = SyncSettingsView["frequency"];
export type StatusView = S["StatusView"];
export type EntityProgress = S["EntityProgress"];
export type ErrorView = S["ErrorView"];
export type RetryRequest = S["RetryRequest"];
export type RetryResult = S["RetryResult"];
export type ConflictPage = S["ConflictPage"];
export type ConflictView = S["ConflictView"];
export type RecordHistory = S["RecordHistory"];
export type SyncNowResult = S["SyncNowResult"];
export type EntityParam = "account" | "contact" | "lead" | "opportunity";

type Prefix = "/api/connections/{connection_id}";
type Under<P> = P extends `${Prefix}${infer Rest}` ? Rest : never;
type AdminPath = Under<keyof paths>;

/** A documented path under the connection, with its `{parameters}` filled in. */
function route(path: AdminPath, params: Record<string, string> = {}, query: Record<string, string | number | null | undefined> = {}): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(params[k] ?? ""));
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${filled}?${s}` : filled;
}

/** The answer checked against the named schema of the document, typed as that schema. */
function checked<K extends keyof S>(schema: K): (v: unknown) => S[K] {
  return (v) => {
    const problem = conforms(schema, v);
    if (problem) throw new ContractViolationGenerated(problem);
    return v as S[K];
  };
}

function listOf<K extends keyof S>(schema: K): (v: unknown) => S[K][] {
  const one = checked(schema);
  return (v) => {
    if (!Array.isArray(v)) throw new ContractViolationGenerated(`a list of ${schema} was expected`);
    return v.map(one);
  };
}

const nothing = (): null => null;

export class AdminApi {
  constructor(readonly client: ApiClient) {}

  connection(): Promise<ConnectionView> {
    return this.client.call("GET", route("/connection"), checked("ConnectionView"));
  }
  connect(body: ConnectRequest): Promise<ConnectionView> {
    return this.client.call("PUT", route("/connection"), checked("ConnectionView"), body);
  }
  disconnect(): Promise<ConnectionView> {
    return this.client.call("DELETE", route("/connection"), checked("ConnectionView"));
  }

  searchUsers(q: string): Promise<DynamicsUser[]> {
    return this.client.call("GET", route("/users/search", {}, { q }), listOf("DynamicsUser"));
  }
  holders(): Promise<RoleHolder[]> {
    return this.client.call("GET", route("/users"), listOf("RoleHolder"));
  }
  assign(userId: string, role: ProductRole): Promise<RoleHolder> {
    return this.client.call("POST", route("/users"), checked("RoleHolder"), { user_id: userId, role });
  }
  removeRole(userId: string, role: ProductRole): Promise<null> {
    const key = role === "ActiveCampaign Admin" ? "admin" : "user";
    return this.client.call("DELETE", route("/users/{user_id}/roles/{role}", { user_id: userId, role: key }), nothing);
  }

  config(): Promise<ConfigView> {
    return this.client.call("GET", route("/config"), checked("ConfigView"));
  }
  saveConfig(config: DataConfig, etag: string): Promise<ConfigView> {
    return this.client.call("PUT", route("/config"), checked("ConfigView"), { config, etag });
  }
  preview(config: DataConfig, etag: string): Promise<JobView> {
    return this.client.call("POST", route("/config/preview"), checked("JobView"), { config, etag });
  }
  job(jobId: string): Promise<JobView> {
    return this.client.call("GET", route("/jobs/{job_id}", { job_id: jobId }), checked("JobView"));
  }
  vocabulary(): Promise<VocabularyView> {
    return this.client.call("GET", route("/vocabulary"), checked("VocabularyView"));
  }
  fields(entity: EntityParam, field?: string): Promise<FieldsView> {
    return this.client.call("GET", route("/fields/{entity}", { entity }, { field }), checked("FieldsView"));
  }

  syncSettings(): Promise<SyncSettingsView> {
    return this.client.call("GET", route("/sync"), checked("SyncSettingsView"));
  }
  saveSyncSettings(body: SyncSettingsUpdate): Promise<SyncSettingsView> {
    return this.client.call("PUT", route("/sync"), checked("SyncSettingsView"), body);
  }
  syncNow(): Promise<SyncNowResult> {
    return this.client.call("POST", route("/sync/now"), checked("SyncNowResult"));
  }
  status(): Promise<StatusView> {
    return this.client.call("GET", route("/status"), checked("StatusView"));
  }

  errors(filter: { entity?: string; side?: string; code?: string } = {}): Promise<ErrorView[]> {
    return this.client.call("GET", route("/errors", {}, { ...filter, limit: 200 }), listOf("ErrorView"));
  }
  retry(body: RetryRequest): Promise<RetryResult> {
    return this.client.call("POST", route("/errors/retry"), checked("RetryResult"), body);
  }
  conflicts(filter: { entity?: string; cursor?: string | null } = {}): Promise<ConflictPage> {
    return this.client.call("GET", route("/conflicts", {}, { ...filter, limit: 50 }), checked("ConflictPage"));
  }
  history(entity: EntityParam, dynamicsId: string): Promise<RecordHistory> {
    return this.client.call("GET", route("/records/{entity}/{dynamics_id}/history", { entity, dynamics_id: dynamicsId }),
      checked("RecordHistory"));
  }
}
