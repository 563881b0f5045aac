import { defineConfig } from "vite";

// Served by `zerobridge api` at `/`; the API itself lives under /v1 on the same origin.
export default defineConfig({ build: { outDir: "dist", emptyOutDir: true } });
