/**
 * The form command on leads and contacts ("ActiveCampaign"): opens the panel in an app side pane
 * for the record on the form. The command bar calls `acds_openPanel` with PrimaryControl (the form
 * context). One pane per app: a second click re-targets it at the current record.
 */
import { IN_PANE } from "../xrm/record";
import type { XrmNamespace } from "../xrm/xrm";

interface FormContext {
  data: { entity: { getId(): string; getEntityName(): string } };
}

export const PANE_ID = "acds_panel";
export const PANEL = "acds_/panel/index.html";
export const PANE_WIDTH = 340;

export async function openPanel(formContext: FormContext, xrm: XrmNamespace | undefined = window.Xrm): Promise<void> {
  if (!xrm?.App) throw new Error("Side panes are not available here (Xrm.App.sidePanes)");
  const entity = formContext.data.entity;
  const id = entity.getId().replace(/[{}]/g, "");
  if (!id) return; // an unsaved form: the enable rule hides the command, nothing to show yet
  const pane = xrm.App.sidePanes.getPane(PANE_ID)
    ?? await xrm.App.sidePanes.createPane({ title: "ActiveCampaign", paneId: PANE_ID, canClose: true, width: PANE_WIDTH });
  const data = new URLSearchParams({ typename: entity.getEntityName(), id, ...IN_PANE }).toString();
  await pane.navigate({ pageType: "webresource", webresourceName: PANEL, data });
}

/** Enable rule: the command shows on saved records only (a new form has no id yet). */
export function isSavedRecord(formContext: FormContext): boolean {
  return formContext.data.entity.getId() !== "";
}

declare global {
  interface Window {
    acds_openPanel?: (formContext: FormContext) => Promise<void>;
    acds_isSavedRecord?: (formContext: FormContext) => boolean;
  }
}

window.acds_openPanel = (fc) => openPanel(fc);
window.acds_isSavedRecord = isSavedRecord;
