import { resolve } from "node:path";
import { defineConfig } from "vite";

// The form command library: a classic script (the command bar loads it with a plain <script>),
// so an IIFE that puts its functions on window, not an ES module.
export default defineConfig({
  build: {
    outDir: resolve(__dirname, "dist", "acds_", "commands"),
    emptyOutDir: false,
    lib: {
      entry: resolve(__dirname, "src/commands/commands.ts"),
      formats: ["iife"],
      name: "acdsCommands",
      fileName: () => "commands.js",
    },
  },
});
