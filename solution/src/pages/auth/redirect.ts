// The redirect URI page: hands the authorization response back to the window that asked for it
// (the popup's opener or the silent iframe's parent) and closes.
import { broadcastResponseToMainFrame } from "@azure/msal-browser/redirect-bridge";

broadcastResponseToMainFrame().catch((e: unknown) => {
  document.body.textContent = `Sign-in could not finish: ${e instanceof Error ? e.message : String(e)}`;
});
