/** The pages of the admin app, by route. */
import type { ApiClient } from "../api/client";
import { Dashboard } from "./Dashboard";
import { DataConfig } from "./DataConfig";
import { Health } from "./Health";
import { Settings } from "./Settings";
import { SyncSettings } from "./SyncSettings";
import { type PageKey, Shell } from "./Shell";
import { Users } from "./Users";

function page(key: PageKey) {
  switch (key) {
    case "dashboard": return <Dashboard />;
    case "settings": return <Settings />;
    case "users": return <Users />;
    case "data": return <DataConfig />;
    case "sync": return <SyncSettings />;
    case "health": return <Health />;
  }
}

export function AdminApp({ client }: { client: ApiClient }) {
  return <Shell client={client} render={page} />;
}
