// Writes a .gz next to every text asset in dist/ (over 1 KiB); `formwork serve` sends it
// to browsers that accept gzip (tower-http ServeDir::precompressed_gzip), so the ~1 MB of
// JavaScript goes over the wire as ~300 KB without compressing on every request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dist = join(import.meta.dirname, '..', 'dist');
const TEXT = /\.(js|css|html|json|svg|map|txt)$/;
let count = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (TEXT.test(name) && statSync(p).size > 1024) {
      writeFileSync(`${p}.gz`, gzipSync(readFileSync(p), { level: constants.Z_BEST_COMPRESSION }));
      count++;
    }
  }
}
walk(dist);
console.log(`compressed ${count} files in dist/`);
