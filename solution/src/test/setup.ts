import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());

// jsdom has no layout, so no ResizeObserver; Fluent's MessageBar watches its own width with one.
class NoLayoutResizeObserver {
  observe(): void { /* jsdom never resizes */ }
  unobserve(): void { /* nothing observed */ }
  disconnect(): void { /* nothing observed */ }
}
if (!("ResizeObserver" in globalThis)) Object.assign(globalThis, { ResizeObserver: NoLayoutResizeObserver });

// Fluent's first render in jsdom is slow on a shared 2-core machine: wait longer than the defaults.
configure({ asyncUtilTimeout: 5000 });
