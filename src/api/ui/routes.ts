import type { FastifyInstance } from 'fastify';
import { CORE_JS } from './client-core.ts';
import { JOB_JS } from './client-job.ts';
import { LIST_JS } from './client-list.ts';
import { APP_CSS, SHELL_HTML } from './shell.ts';

/** Picks the page from the URL, renders it, and refreshes it from the live stream. */
const BOOT_JS = String.raw`
(function () {
  dfa.init();
  const path = location.pathname;
  let m;
  let page;
  if ((m = /^\/ui\/jobs\/([^/]+)\/?$/.exec(path))) page = dfa.jobPage(decodeURIComponent(m[1]));
  else if ((m = /^\/ui\/runs\/([^/]+)\/?$/.exec(path))) page = dfa.runPage(decodeURIComponent(m[1]));
  else page = dfa.homePage();
  const soon = dfa.debounce(() => page.refresh(), 250);
  dfa.onEvent((ev) => { if (page.onEvent(ev)) soon(); });
  page.render().catch(dfa.showError).finally(() => {
    // Every (re)connect refreshes once: events missed while disconnected are then in the page.
    dfa.startLive(soon);
  });
})();
`;

const APP_JS = [CORE_JS, LIST_JS, JOB_JS, BOOT_JS].join('\n');

/**
 * The dashboard (issue 12 §2): `/`, `/ui/runs/{id}`, `/ui/jobs/{key}` each serve the same small
 * page, whose script reads the REST API (with a bearer token when the API asks for one). The page,
 * script and stylesheet hold no data, so they need no authentication; every API call does.
 */
export function registerUi(app: FastifyInstance): void {
  const page = async (_req: unknown, reply: { header: (k: string, v: string) => typeof reply; send: (b: string) => unknown }) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      // Only our own script and style; images from blob: URLs (previews fetched with the token).
      .header('content-security-policy', "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(SHELL_HTML);
  app.get('/', page);
  app.get('/ui/runs/:runId', page);
  app.get('/ui/jobs/:jobKey', page);
  app.get('/ui/app.js', async (_req, reply) => reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(APP_JS));
  app.get('/favicon.ico', async (_req, reply) => reply.status(204).send());
  app.get('/ui/app.css', async (_req, reply) => reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(APP_CSS));
}
