// Copies the Swagger UI assets (npm package swagger-ui-dist) into dist/api-docs/, so the
// API reference at /api-docs/ works without internet access.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const src = dirname(require.resolve('swagger-ui-dist/package.json'));
const out = join(import.meta.dirname, '..', 'dist', 'api-docs');
mkdirSync(out, { recursive: true });
for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
  copyFileSync(join(src, f), join(out, f));
}
writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Formwork API reference</title>
<link rel="stylesheet" href="./swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="./swagger-ui-bundle.js"></script>
<script src="./swagger-ui-standalone-preset.js"></script>
<script src="./init.js"></script>
</body></html>
`,
);
writeFileSync(
  join(out, 'init.js'),
  `// One entry for the platform API, one per app (generated from its published forms).
fetch('/api/v1/apps')
  .then((r) => (r.ok ? r.json() : { items: [] }))
  .catch(() => ({ items: [] }))
  .then((apps) => {
    const urls = [{ url: '/api/v1/openapi.json', name: 'Platform' }].concat(
      (apps.items || []).map((a) => ({ url: '/api/v1/apps/' + a.key + '/openapi.json', name: 'App: ' + a.key })),
    );
    window.ui = SwaggerUIBundle({
      urls,
      dom_id: '#docs',
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: 'StandaloneLayout',
    });
  });
`,
);
console.log('API reference copied to dist/api-docs');
