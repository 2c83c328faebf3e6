/**
 * The web console's static files (services/api/console/: HTML, an ES module,
 * CSS), served at `/` and `/console/*`. Only regular files directly under the
 * console directory with a known extension are served: no directory listing,
 * no path with `..`, `/` or `\` inside the name, no symlink out of the folder.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import type { ExtraRoute } from '@hearth/lambda-http';

/** The console's folder: `services/api/console`, beside both `src/` and `dist/`. */
export const defaultConsoleDir = fileURLToPath(new URL('../console/', import.meta.url));

/** Content types of the files the console is made of. */
const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Largest file served, bytes: the console is small; anything bigger is not one of its files. */
const maxFileBytes = 2 * 1024 * 1024;

function notFound(res: ServerResponse, name: string): void {
  const body = JSON.stringify({ Type: 'User', message: `Console file not found: ${name.slice(0, 200)}` });
  res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
  res.end(body);
}

/** Whether `name` is a plain file name the console may serve. */
export function isServableName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 100 &&
    basename(name) === name &&
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) &&
    !name.includes('..') &&
    Object.hasOwn(contentTypes, extname(name))
  );
}

async function serveFile(dir: string, name: string, res: ServerResponse): Promise<void> {
  if (!isServableName(name)) return notFound(res, name);
  try {
    const root = await realpath(dir);
    const path = await realpath(join(root, name));
    // A symlink pointing out of the console folder is not served.
    if (!path.startsWith(root + sep)) return notFound(res, name);
    const info = await stat(path);
    if (!info.isFile() || info.size > maxFileBytes) return notFound(res, name);
    const bytes = await readFile(path);
    res.writeHead(200, {
      'content-type': contentTypes[extname(name)]!,
      'content-length': bytes.byteLength,
      // The console changes with the api version; a reload must pick it up.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return notFound(res, name);
    throw error;
  }
}

/** The console's routes: `GET /` (the page) and `GET /console/{file}`. */
export function consoleRoutes(dir: string = defaultConsoleDir): ExtraRoute[] {
  return [
    {
      method: 'GET',
      path: '/',
      name: 'Console',
      handle: (_req, res) => serveFile(dir, 'index.html', res),
    },
    {
      method: 'GET',
      path: '/console/{file+}',
      name: 'ConsoleFile',
      handle: (_req, res, ctx) => serveFile(dir, ctx.params.file || 'index.html', res),
    },
  ];
}
