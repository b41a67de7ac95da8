// Builds the harness page (harness/index.html: the real panel with @decky/ui and
// @decky/api replaced by harness/stubs) into out/harness-page/.
import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "./",
  logLevel: "warn",
  resolve: {
    alias: {
      "@decky/ui": here("./stubs/decky-ui.tsx"),
      "@decky/api": here("./stubs/decky-api.ts"),
    },
  },
  oxc: { jsx: { runtime: "automatic" } },
  build: { outDir: here("../out/harness-page"), emptyOutDir: true, sourcemap: true },
});
