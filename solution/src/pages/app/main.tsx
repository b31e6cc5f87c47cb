import { createRoot } from "react-dom/client";
import { Home } from "../../home/Home";
import { App } from "../../panel/App";
import { boot } from "../../panel/boot";
import { findXrm } from "../../xrm/xrm";

const start = () => boot({ xrm: findXrm(), search: window.location.search, needsRecord: false });

createRoot(document.getElementById("root") as HTMLElement).render(
  <App start={start}>{(b) => <Home client={b.client} />}</App>,
);
