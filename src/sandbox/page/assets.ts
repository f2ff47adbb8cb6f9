import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The page's three files: plain HTML, CSS and JS, no build step. */
const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
} as const;

export type AssetName = keyof typeof FILES;
export type Assets = Readonly<Record<AssetName, { type: string; body: string }>>;

export function isAsset(name: string): name is AssetName {
  return Object.hasOwn(FILES, name);
}

/** Read once at start-up (they sit beside this module in src/sandbox/page/public). */
export async function loadAssets(
  dir = fileURLToPath(new URL('./public/', import.meta.url)),
): Promise<Assets> {
  const entries = await Promise.all(
    (Object.keys(FILES) as AssetName[]).map(
      async (name) =>
        [name, { type: FILES[name], body: await readFile(`${dir}/${name}`, 'utf8') }] as const,
    ),
  );
  return Object.fromEntries(entries) as Assets;
}
