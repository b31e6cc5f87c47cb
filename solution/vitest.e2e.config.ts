import { defineConfig } from "vitest/config";

// Browser tests: Node drives Debian's chromium through playwright-core (no browser download).
// One file at a time: each spec starts its own servers, and the machine has two cores.
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.spec.ts"],
    fileParallelism: false,
    globalSetup: ["e2e/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
