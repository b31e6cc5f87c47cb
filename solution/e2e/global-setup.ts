// One local stack (devtools.pages) for all browser specs: starting it costs ~30 s on two cores.
import type { TestProject } from "vitest/node";
import { type Pages, type PagesInfo, startPages } from "./harness";

declare module "vitest" {
  export interface ProvidedContext { pages: PagesInfo }
}

let pages: Pages | undefined;

export async function setup(project: TestProject): Promise<void> {
  pages = await startPages();
  project.provide("pages", pages.info);
}

export async function teardown(): Promise<void> {
  await pages?.stop();
}
