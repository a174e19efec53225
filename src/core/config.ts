import { z } from 'zod';
import { DfaError } from './errors.ts';

/**
 * One zod-validated loader from DFA_* variables, passed in explicitly (no global singleton).
 * Unset PACS / FHIR ⇒ embedded dev servers (DESIGN.md "Contracts").
 */
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const port = z.coerce.number().int().min(1).max(65535);
const aet = z
  .string()
  .min(1)
  .max(16) // PS3.5 6.2: AE is at most 16 characters
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'AE title: printable ASCII, no backslash');

const flag = (dflt: boolean) => z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').default(dflt);

export const RETRIEVE_METHODS = ['c-get', 'c-move', 'wado-rs'] as const;
export type RetrieveMethod = (typeof RETRIEVE_METHODS)[number];
export const STORE_METHODS = ['c-store', 'stow-rs'] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];
export const FHIR_AUTH_MODES = ['none', 'basic', 'bearer', 'client-credentials', 'smart-backend'] as const;
export type FhirAuthMode = (typeof FHIR_AUTH_MODES)[number];

const schema = z.object({
  DFA_DATA_DIR: z.string().default('.dfa'),
  DFA_DATABASE_URL: z.string().url().optional(),
  DFA_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  DFA_LOG_FORMAT: z.enum(['text', 'json']).default('text'),

  DFA_FHIR_URL: z.string().url().optional(),
  DFA_FHIR_AUTH: z.enum(FHIR_AUTH_MODES).default('none'),
  DFA_FHIR_USERNAME: z.string().optional(),
  DFA_FHIR_PASSWORD: z.string().optional(),
  DFA_FHIR_TOKEN: z.string().optional(),
  DFA_FHIR_TOKEN_URL: z.string().url().optional(),
  DFA_FHIR_CLIENT_ID: z.string().optional(),
  DFA_FHIR_CLIENT_SECRET: z.string().optional(),
  DFA_FHIR_PRIVATE_KEY: z.string().optional(), // PEM or path to PEM / JWK
  DFA_FHIR_SCOPE: z.string().optional(),
  DFA_FHIR_MRN_SYSTEM: z.string().optional(), // which Patient.identifier system is the MRN; default any
  DFA_FHIR_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),

  DFA_PACS_HOST: z.string().optional(),
  DFA_PACS_PORT: port.optional(),
  DFA_PACS_AET: aet.optional(),
  DFA_AET: aet.default('DFA'),
  DFA_SCP_PORT: port.default(11112),
  DFA_SCP_ALLOWED_AETS: list.optional(), // calling AEs our SCP accepts; default: the PACS AE
  DFA_DIMSE_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),
  DFA_DIMSE_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  DFA_DIMSE_ASSOCIATION_TIMEOUT_MS: z.coerce.number().int().positive().default(15000),
  DFA_DIMSE_IDLE_TIMEOUT_MS: z.coerce.number().int().positive().default(60000),
  DFA_SCP_HOST: z.string().default('127.0.0.1'), // interface our SCP binds (0.0.0.0 to accept from the network)
  // DICOM over TLS (PS3.15 B.1/B.9): PEM files; one certificate serves as SCU and SCP.
  DFA_TLS_CERT: z.string().optional(),
  DFA_TLS_KEY: z.string().optional(),
  DFA_TLS_KEY_PASSWORD: z.string().optional(),
  DFA_TLS_CA: list.optional(), // CAs trusted for peers' certificates; default: Node's bundled roots
  DFA_TLS_VERIFY_PEER: flag(true), // SCU: refuse a PACS certificate that does not verify
  DFA_TLS_CHECK_HOSTNAME: flag(true), // SCU: the PACS certificate must name DFA_PACS_HOST
  DFA_TLS_MIN_VERSION: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  DFA_PACS_TLS: flag(false), // the PACS node speaks DICOM over TLS
  DFA_SCP_TLS: flag(false), // our SCP speaks DICOM over TLS on DFA_SCP_PORT
  DFA_SCP_TLS_PORT: port.optional(), // a second SCP port speaking TLS, beside plain DFA_SCP_PORT
  DFA_SCP_TLS_REQUIRE_CLIENT_CERT: flag(true), // mutual TLS: callers need a certificate signed by DFA_TLS_CA
  DFA_DICOMWEB_URL: z.string().url().optional(),
  DFA_DICOMWEB_USERNAME: z.string().optional(),
  DFA_DICOMWEB_PASSWORD: z.string().optional(),
  DFA_DICOMWEB_TOKEN: z.string().optional(),
  DFA_RETRIEVE: list.default(['c-get', 'c-move', 'wado-rs']).pipe(z.array(z.enum(RETRIEVE_METHODS)).min(1)),
  DFA_STORE: z.enum(STORE_METHODS).default('c-store'),

  DFA_SEGMENTER: z.string().default('classical'), // 'classical' | 'onnx' | a model name
  DFA_FALLBACK_SEGMENTER: z.string().optional(),
  DFA_MODEL_DIR: z.string().optional(), // where ONNX models + manifests live; default: the shipped models/
  // onnxruntime intra-op threads per session; 1 measured fastest on 2 shared cores (several jobs in parallel)
  DFA_ONNX_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  DFA_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  // Shared database: workers say they are alive this often; one silent this long is dead and its jobs go to others.
  DFA_WORKER_HEARTBEAT_S: z.coerce.number().positive().max(3600).default(10),
  DFA_WORKER_DEAD_AFTER_S: z.coerce.number().positive().max(86_400).default(60),
  DFA_API_PORT: port.default(8080),
  DFA_API_HOST: z.string().default('127.0.0.1'),
  // `dfa serve`: a goal run for each study pushed to our SCP once it has been quiet this long.
  DFA_STANDING_GOAL: z.string().optional(),
  DFA_STANDING_GOAL_QUIET_MS: z.coerce.number().int().positive().default(5000),
  DFA_STANDING_REGISTER: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').default(false),

  DFA_LLM_BASE_URL: z.string().url().optional(), // OpenAI-compatible endpoint; set ⇒ LLM planner
  DFA_LLM_MODEL: z.string().optional(),
  DFA_LLM_API_KEY: z.string().optional(),
});

export type Config = z.infer<typeof schema>;

/** Load and validate configuration from an environment (process.env by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('DFA_') && v !== undefined && v !== '') picked[k] = v;
  const r = schema.safeParse(picked);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new DfaError('CONFIG_INVALID', `bad configuration: ${why}`);
  }
  const c = r.data;
  if (c.DFA_PACS_HOST && (!c.DFA_PACS_PORT || !c.DFA_PACS_AET)) {
    throw new DfaError('CONFIG_INVALID', 'bad configuration: DFA_PACS_HOST needs DFA_PACS_PORT and DFA_PACS_AET');
  }
  if ((c.DFA_TLS_CERT === undefined) !== (c.DFA_TLS_KEY === undefined)) {
    throw new DfaError('CONFIG_INVALID', 'bad configuration: DFA_TLS_CERT and DFA_TLS_KEY go together (certificate and its private key, PEM files)');
  }
  const scpTls = c.DFA_SCP_TLS ? 'DFA_SCP_TLS' : c.DFA_SCP_TLS_PORT !== undefined ? 'DFA_SCP_TLS_PORT' : undefined;
  if (c.DFA_SCP_TLS && c.DFA_SCP_TLS_PORT !== undefined) {
    throw new DfaError('CONFIG_INVALID', 'bad configuration: DFA_SCP_TLS makes DFA_SCP_PORT itself TLS; DFA_SCP_TLS_PORT adds a TLS port beside a plain DFA_SCP_PORT: set one of them');
  }
  if (scpTls && !c.DFA_TLS_CERT) throw new DfaError('CONFIG_INVALID', `bad configuration: ${scpTls} needs DFA_TLS_CERT and DFA_TLS_KEY (the certificate our SCP presents)`);
  if (scpTls && c.DFA_SCP_TLS_REQUIRE_CLIENT_CERT && !c.DFA_TLS_CA) {
    throw new DfaError('CONFIG_INVALID', `bad configuration: ${scpTls} with client certificates required needs DFA_TLS_CA (the CAs that sign the callers' certificates), or set DFA_SCP_TLS_REQUIRE_CLIENT_CERT=false`);
  }
  return c;
}
