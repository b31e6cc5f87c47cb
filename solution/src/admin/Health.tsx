/** Sync health: record errors (filter, retry one, retry all), the conflict log, a record's history. */
import { Tab, TabList } from "@fluentui/react-components";
import { useState } from "react";
import { Conflicts, Errors, History } from "./HealthParts";
import { PageFrame } from "./common";
import { useAdmin } from "./Shell";

type View = "errors" | "conflicts" | "history";

export function Health() {
  const { query } = useAdmin();
  const start = query.get("tab");
  const [view, setView] = useState<View>(start === "conflicts" || start === "history" ? start : "errors");
  const [record, setRecord] = useState({ entity: query.get("entity") ?? "contact", id: query.get("id") ?? "" });
  const openHistory = (entity: string, id: string) => { setRecord({ entity, id }); setView("history"); };
  return (
    <PageFrame title="Sync health" id="acds-health">
      <TabList selectedValue={view} onTabSelect={(_, d) => setView(d.value as View)} aria-label="Sync health">
        <Tab value="errors">Record errors</Tab>
        <Tab value="conflicts">Conflicts</Tab>
        <Tab value="history">Record history</Tab>
      </TabList>
      <div role="tabpanel" aria-label={view === "errors" ? "Record errors" : view === "conflicts" ? "Conflicts" : "Record history"}>
        {view === "errors" ? <Errors openHistory={openHistory} /> : null}
        {view === "conflicts" ? <Conflicts openHistory={openHistory} /> : null}
        {view === "history" ? <History start={record} /> : null}
      </div>
    </PageFrame>
  );
}
