import { createRoot } from "react-dom/client";
import { App } from "../../panel/App";
import { boot } from "../../panel/boot";
import { Panel } from "../../panel/Panel";
import { findXrm } from "../../xrm/xrm";

const start = () => boot({ xrm: findXrm(), search: window.location.search });

createRoot(document.getElementById("root") as HTMLElement).render(
  <App start={start}>{(b) => <Panel client={b.client} entity={b.entity} id={b.id} inPane={b.inPane} />}</App>,
);
