/** The pages of the admin app, by route. */
import type { ApiClient } from "../api/client";
import { Dashboard } from "./Dashboard";
import { Settings } from "./Settings";
import { type PageKey, Shell } from "./Shell";
import { Users } from "./Users";

function page(key: PageKey) {
  switch (key) {
    case "dashboard": return <Dashboard />;
    case "settings": return <Settings />;
    case "users": return <Users />;
    default: return <Dashboard />;
  }
}

export function AdminApp({ client }: { client: ApiClient }) {
  return <Shell client={client} render={page} />;
}
