import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Component tests: jsdom, a mocked fetch, no browser.
export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    pool: "threads",
    maxWorkers: 2,
    testTimeout: 30_000,
  },
});
