// The viewer (src/renderer) is built by vite into app/dist/renderer, served by the bridge
// (`resight serve`) and by Electron's app protocol. No plugins: esbuild compiles the TSX.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('./src/renderer', import.meta.url)),
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: fileURLToPath(new URL('./app/dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
