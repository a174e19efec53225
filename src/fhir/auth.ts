import type { Config } from '../core/config.ts';
import { DfaError } from '../core/errors.ts';
import { basicAuth, bearerAuth, clientCredentialsAuth, noAuth, smartBackendAuth, type HttpAuth } from '../net/http-auth.ts';

/** The FHIR client's auth (DFA_FHIR_AUTH): the shared HTTP auth strategies of src/net/http-auth.ts. */
export type FhirAuth = HttpAuth;
export { basicAuth, bearerAuth, clientCredentialsAuth, loadSigningKey, noAuth, smartBackendAuth, type TokenEndpointOptions } from '../net/http-auth.ts';

/** Builds the auth strategy DFA_FHIR_AUTH names, checking that its settings are present. */
export function authFromConfig(c: Config): FhirAuth {
  const need = (name: keyof Config): string => {
    const v = c[name];
    if (typeof v !== 'string' || !v) throw new DfaError('CONFIG_INVALID', `DFA_FHIR_AUTH=${c.DFA_FHIR_AUTH} needs ${name}`);
    return v;
  };
  switch (c.DFA_FHIR_AUTH) {
    case 'none':
      return noAuth();
    case 'basic':
      return basicAuth(need('DFA_FHIR_USERNAME'), need('DFA_FHIR_PASSWORD'));
    case 'bearer':
      return bearerAuth(need('DFA_FHIR_TOKEN'));
    case 'client-credentials':
      return clientCredentialsAuth({
        tokenUrl: need('DFA_FHIR_TOKEN_URL'),
        clientId: need('DFA_FHIR_CLIENT_ID'),
        clientSecret: need('DFA_FHIR_CLIENT_SECRET'),
        scope: c.DFA_FHIR_SCOPE,
        timeoutMs: c.DFA_FHIR_TIMEOUT_MS,
      });
    case 'smart-backend':
      return smartBackendAuth({
        tokenUrl: need('DFA_FHIR_TOKEN_URL'),
        clientId: need('DFA_FHIR_CLIENT_ID'),
        privateKey: need('DFA_FHIR_PRIVATE_KEY'),
        scope: c.DFA_FHIR_SCOPE ?? 'system/*.rs system/*.cu',
        timeoutMs: c.DFA_FHIR_TIMEOUT_MS,
      });
  }
}
