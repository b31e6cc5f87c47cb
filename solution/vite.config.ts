import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Every page is a self-contained web resource under the publisher prefix: no hashes in the file
// names (the solution names each file), relative URLs (they load from /WebResources/acds_/...),
// nothing fetched from a CDN at run time.
export const PREFIX = "acds_";

export default defineConfig({
  root: resolve(__dirname, "src/pages"),
  base: "./",
  plugins: [react()],
  build: {
    outDir: resolve(__dirname, "dist", PREFIX),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: false,
    chunkSizeWarningLimit: 1000,
    rolldownOptions: {
      input: {
        panel: resolve(__dirname, "src/pages/panel/index.html"),
        auth: resolve(__dirname, "src/pages/auth/redirect.html"),
        app: resolve(__dirname, "src/pages/app/index.html"),
      },
      output: {
        entryFileNames: "[name]/[name].js",
        chunkFileNames: "shared/[name].js",
        assetFileNames: (asset) => {
          const name = asset.names[0] ?? "asset";
          return `shared/${name}`;
        },
      },
    },
  },
});
