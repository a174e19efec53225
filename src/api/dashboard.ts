import type { FastifyInstance } from 'fastify';
import { registerUi } from './ui/routes.ts';

/**
 * The dashboard: GET / and the /ui pages (src/api/ui). With DFA_API_AUTH=token|oidc the page asks
 * for a bearer token on the first 401, keeps it in sessionStorage and sends it as an Authorization
 * header; the event stream is read with fetch() streaming (EventSource cannot send headers, and a
 * token in the query string would land in access logs and the browser history).
 * test/e2e/dashboard.browser.test.ts drives it in Debian's chromium, with and without a token.
 */
export function registerDashboard(app: FastifyInstance): void {
  registerUi(app);
}
