// Decky's standard build: src/index.tsx -> dist/index.js (ESM), with React and
// @decky/ui taken from Steam's globals and plugin.json inlined as @decky/manifest.
import deckyPlugin from "@decky/rollup";

export default deckyPlugin({});
