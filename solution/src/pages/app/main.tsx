import { createRoot } from "react-dom/client";
import { AdminApp } from "../../admin/AdminApp";
import { App } from "../../panel/App";
import { boot } from "../../panel/boot";
import { findXrm } from "../../xrm/xrm";

const start = () => boot({ xrm: findXrm(), search: window.location.search, needsRecord: false });

createRoot(document.getElementById("root") as HTMLElement).render(
  <App start={start}>{(b) => <AdminApp client={b.client} />}</App>,
);
