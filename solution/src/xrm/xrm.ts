/**
 * The few parts of the documented Xrm client API the pages use (Power Apps client API reference):
 * `Xrm.Utility.getGlobalContext()` (userSettings.userId / userName, getClientUrl()),
 * `Xrm.WebApi.retrieveRecord` / `retrieveMultipleRecords`, `Xrm.Navigation.openUrl` and, for the form
 * command, `Xrm.App.sidePanes.createPane`. A web resource reaches them through its parent window.
 */

export interface XrmUserSettings {
  userId: string;
  userName: string;
}

export interface XrmGlobalContext {
  userSettings: XrmUserSettings;
  getClientUrl(): string;
}

export interface XrmWebApi {
  retrieveRecord(entityLogicalName: string, id: string, options?: string): Promise<Record<string, unknown>>;
  retrieveMultipleRecords(entityLogicalName: string, options?: string, maxPageSize?: number
  ): Promise<{ entities: Record<string, unknown>[]; nextLink?: string }>;
}

export interface XrmPane {
  paneId: string;
  navigate(pageInput: { pageType: "webresource"; webresourceName: string; data?: string }): Promise<void>;
  close(): void;
}

export interface XrmNamespace {
  Utility: { getGlobalContext(): XrmGlobalContext };
  WebApi: XrmWebApi;
  Navigation: { openUrl(url: string, options?: { height?: number; width?: number }): void };
  App?: {
    sidePanes: {
      createPane(options: { title?: string; paneId?: string; canClose?: boolean; width?: number;
        imageSrc?: string }): Promise<XrmPane>;
      getPane(paneId: string): XrmPane | undefined;
    };
  };
}

declare global {
  interface Window {
    Xrm?: XrmNamespace;
  }
}

/** The host's Xrm: the web resource's own window (a command script) or its parent (a page in a pane or form). */
export function findXrm(win: Window = window): XrmNamespace | null {
  if (win.Xrm) return win.Xrm;
  try {
    if (win.parent !== win && win.parent.Xrm) return win.parent.Xrm;
  } catch {
    // A parent of another origin: not inside Dynamics.
  }
  return null;
}

export function bareGuid(id: string): string {
  return id.replace(/[{}]/g, "").toLowerCase();
}
