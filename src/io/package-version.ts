import { readFile } from 'node:fs/promises';

/** The product's version from package.json (OpenAPI info.version of the API and of every service); '0.0.0' if unreadable. */
export async function packageVersion(): Promise<string> {
  const raw = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '{}');
  return (JSON.parse(raw) as { version?: string }).version ?? '0.0.0';
}
