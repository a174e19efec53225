import { z } from 'zod';
import { DfaError } from './errors.ts';
import { parseStorageUrl } from './storage-url.ts';

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

/** A duration in ms from '600' (seconds), '500ms', '90s', '10m' or '1h'. */
const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, 'a duration like 600, 90s, 10m or 1h')
  .transform((v) => {
    const m = /^([\d.]+)(ms|s|m|h)?$/.exec(v)!;
    const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return Math.round(Number(m[1]) * (unit[m[2] ?? 's'] ?? 1000));
  });
const flag = (dflt: boolean) => z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').default(dflt);

export const RETRIEVE_METHODS = ['c-get', 'c-move', 'wado-rs'] as const;
export type RetrieveMethod = (typeof RETRIEVE_METHODS)[number];
export const STORE_METHODS = ['c-store', 'stow-rs'] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];
export const FHIR_AUTH_MODES = ['none', 'basic', 'bearer', 'client-credentials', 'smart-backend'] as const;
export type FhirAuthMode = (typeof FHIR_AUTH_MODES)[number];
export const API_AUTH_MODES = ['none', 'token', 'oidc'] as const;
export type ApiAuthMode = (typeof API_AUTH_MODES)[number];

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
  // Calling AE titles bound to source hosts (AET@host,...); required when DFA_SCP_HOST is not loopback.
  DFA_SCP_ALLOWED_PEERS: list.optional(),
  DFA_SCP_MAX_ASSOCIATIONS: z.coerce.number().int().min(1).max(1000).default(16), // more: A-ASSOCIATE-RJ transient
  DFA_DICOM_MAX_DATASET_MB: z.coerce.number().positive().max(4096).default(512), // one received data set, SCP and SCU
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
  // The FHIR client's modes for DICOMweb too; unset = basic/bearer from the settings above, or none.
  DFA_DICOMWEB_AUTH: z.enum(FHIR_AUTH_MODES).optional(),
  DFA_DICOMWEB_TOKEN_URL: z.string().url().optional(),
  DFA_DICOMWEB_CLIENT_ID: z.string().optional(),
  DFA_DICOMWEB_CLIENT_SECRET: z.string().optional(),
  DFA_DICOMWEB_PRIVATE_KEY: z.string().optional(), // PEM or path to PEM / JWK
  DFA_DICOMWEB_SCOPE: z.string().optional(),
  DFA_RETRIEVE: list.default(['c-get', 'c-move', 'wado-rs']).pipe(z.array(z.enum(RETRIEVE_METHODS)).min(1)),
  DFA_STORE: z.enum(STORE_METHODS).default('c-store'),
  // When a person reviews contours before they reach the PACS (a goal's words override it).
  DFA_REVIEW: z.enum(['never', 'on-qc-fail', 'always']).default('on-qc-fail'),
  // Link shown per study in the dashboard, e.g. an OHIF viewer: https://ohif.example/viewer?StudyInstanceUIDs={StudyInstanceUID}
  DFA_VIEWER_URL: z.string().includes('{StudyInstanceUID}').optional(),

  // Artifacts and the results archive (src/storage): a directory (default DFA_DATA_DIR/artifacts) or
  // s3://bucket/prefix on S3-compatible storage; then DFA_DATA_DIR/artifacts is the local working copy.
  DFA_STORAGE_URL: z.string().optional(),
  DFA_S3_ENDPOINT: z.string().url().optional(), // MinIO, Ceph…; unset = AWS
  DFA_S3_REGION: z.string().default('us-east-1'),
  DFA_S3_FORCE_PATH_STYLE: flag(false), // http://host/bucket/key instead of http://bucket.host/key (MinIO: true)
  DFA_S3_ACCESS_KEY_ID: z.string().optional(), // unset: the AWS SDK's default chain (AWS_* env, profile, instance role)
  DFA_S3_SECRET_ACCESS_KEY: z.string().optional(),
  // Results archive entries older than this many days go with `dfa archive prune`; unset = kept forever.
  DFA_ARCHIVE_RETENTION_DAYS: z.coerce.number().int().positive().optional(),

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
  // REST API callers (src/api/auth.ts): none only on loopback; token = DFA_API_TOKEN; oidc = JWT from an IdP.
  DFA_API_AUTH: z.enum(API_AUTH_MODES).default('none'),
  DFA_API_TOKEN: z.string().optional(),
  DFA_API_OIDC_ISSUER: z.string().url().optional(),
  DFA_API_OIDC_AUDIENCE: z.string().optional(),
  DFA_API_OIDC_JWKS_URL: z.string().url().optional(), // default: jwks_uri from the issuer's discovery document
  DFA_API_OIDC_ROLES_CLAIM: z.string().default('roles'), // dotted path, e.g. realm_access.roles (Keycloak)
  DFA_API_ALLOWED_HOSTS: list.optional(), // Host header names accepted; default loopback names when bound to loopback
  DFA_API_MAX_BODY_KB: z.coerce.number().int().min(1).max(10_240).default(64),
  DFA_API_MAX_STREAMS: z.coerce.number().int().min(1).max(10_000).default(32), // concurrent GET /events
  DFA_API_RATE_LIMIT: z.coerce.number().int().min(1).default(600), // requests per minute per client address
  // `dfa service <name>` (src/services): each service's own HTTP API, with the DFA_API_AUTH settings above.
  DFA_SERVICE_HOST: z.string().default('127.0.0.1'),
  DFA_SERVICE_PORT: port.optional(), // default per service: ml 8091, storage 8092, dicom 8093, fhir 8094
  DFA_SERVICE_MAX_BODY_KB: z.coerce.number().int().min(1).max(10_240).default(64), // JSON request bodies
  // What the agent sends to our services (src/remote): a bearer token (default DFA_API_TOKEN), or one
  // from the identity provider by client credentials (OIDC services; the token needs the operator role).
  DFA_SERVICE_TOKEN: z.string().optional(),
  DFA_SERVICE_TOKEN_URL: z.string().url().optional(),
  DFA_SERVICE_CLIENT_ID: z.string().optional(),
  DFA_SERVICE_CLIENT_SECRET: z.string().optional(),
  DFA_SERVICE_SCOPE: z.string().optional(),
  DFA_SERVICE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000), // one call to a service
  // Remote services: unset = in process. DFA_ML_URL may list replicas (comma-separated).
  DFA_ML_URL: list.pipe(z.array(z.string().url()).min(1)).optional(),
  DFA_ML_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000), // one segmentation on one replica
  DFA_STORAGE_SERVICE_URL: z.string().url().optional(),
  DFA_DICOM_URL: z.string().url().optional(), // dicom_handler (`dfa service dicom`): the PACS over HTTP
  DFA_DICOM_RETRIEVE_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000), // one retrieval / store through it
  DFA_FHIR_SERVICE_URL: z.string().url().optional(), // fhir_handler (`dfa service fhir`): FHIR over HTTP
  DFA_STORAGE_MAX_OBJECT_MB: z.coerce.number().int().min(1).max(16_384).default(1024), // one artifact over HTTP
  // `dfa serve`: a goal run for each study pushed to our SCP once it has been quiet this long.
  DFA_STANDING_GOAL: z.string().optional(),
  DFA_STANDING_GOAL_QUIET_MS: z.coerce.number().int().positive().default(5000),
  DFA_STANDING_REGISTER: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').default(false),
  // A pushed study whose forward / registration / run failed is tried again after this, doubled up to the max.
  DFA_STANDING_RETRY_MS: z.coerce.number().int().positive().default(5000),
  DFA_STANDING_RETRY_MAX_MS: z.coerce.number().int().positive().default(300_000),
  // With DFA_DICOM_URL: how often `dfa serve` asks the dicom_handler for studies pushed to its SCP
  // (GET /received); while it does not answer, doubled up to DFA_OUTAGE_PROBE_MAX_MS.
  DFA_STANDING_POLL_MS: z.coerce.number().int().positive().default(2000),
  // Outages (src/agent/jobs/outage.ts): jobs wait for an unreachable PACS / DICOMweb / FHIR this long
  // (600, 600s, 10m, 1h; a bare number is seconds), probing it with backoff, before they fail.
  DFA_OUTAGE_WAIT: duration.default(600_000),
  DFA_OUTAGE_PROBE_MS: z.coerce.number().int().positive().default(2000),
  DFA_OUTAGE_PROBE_MAX_MS: z.coerce.number().int().positive().default(30_000),
  DFA_OUTAGE_PROBE_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),

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
    const why = r.error.issues.map((i) => explainIssue(i, picked)).join('; ');
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
  const where = parseStorageUrl(c.DFA_STORAGE_URL);
  if (typeof where === 'string') throw new DfaError('CONFIG_INVALID', `bad configuration: DFA_STORAGE_URL: ${where}`);
  if ((c.DFA_S3_ACCESS_KEY_ID === undefined) !== (c.DFA_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new DfaError('CONFIG_INVALID', 'bad configuration: DFA_S3_ACCESS_KEY_ID and DFA_S3_SECRET_ACCESS_KEY go together (or set neither: the AWS SDK default chain)');
  }
  return c;
}

/** The value as given and what is allowed ("DFA_PACS_PORT='abc': a whole number from 1 to 65535"), never "received NaN". */
function explainIssue(i: z.core.$ZodIssue, given: Record<string, string>): string {
  const key = String(i.path[0] ?? '');
  const raw = given[key];
  const what = `${key}=${raw === undefined ? '(unset)' : `'${raw}'`}`;
  const shape = schema.shape[key as keyof typeof schema.shape] as z.ZodType | undefined;
  const allowed = shape ? allowedText(shape) : undefined;
  if (i.code === 'invalid_value' && 'values' in i) return `${what} is not allowed: ${raw?.includes(',') ? 'each value ' : ''}one of ${i.values.join(', ')}`;
  if (allowed) return `${what} is not allowed: ${allowed}`;
  return `${what}: ${i.message}`;
}

/** What a setting accepts, read from its schema (enum values, number range, URL). */
function allowedText(t: z.ZodType): string | undefined {
  const json = z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const inner = (json.anyOf as Record<string, unknown>[] | undefined)?.find((x) => x.type !== 'null') ?? json;
  if (Array.isArray(inner.enum)) return `one of ${inner.enum.join(', ')}`;
  const min = inner.minimum as number | undefined;
  const max = inner.maximum as number | undefined;
  if (inner.type === 'number' || inner.type === 'integer') {
    const kind = inner.type === 'integer' ? 'a whole number' : 'a number';
    if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
    if (min !== undefined) return `${kind} ≥ ${min}`;
    if (inner.exclusiveMinimum !== undefined) return `${kind} > ${String(inner.exclusiveMinimum)}`;
    return kind;
  }
  if (inner.format === 'uri') return 'a URL such as http://127.0.0.1:8080/fhir';
  return undefined;
}

/** Every DFA_* setting this version knows. */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

/** DFA_* variables no setting reads, with the nearest known name (edit distance ≤ 2). */
export function unknownConfigKeys(env: Record<string, string | undefined>): { key: string; nearest?: string }[] {
  const out: { key: string; nearest?: string }[] = [];
  for (const key of Object.keys(env)) {
    if (!key.startsWith('DFA_') || CONFIG_KEYS.includes(key)) continue;
    let best: { k: string; d: number } | undefined;
    for (const k of CONFIG_KEYS) {
      const d = editDistance(key, k);
      if (!best || d < best.d) best = { k, d };
    }
    out.push({ key, ...(best && best.d <= 2 ? { nearest: best.k } : {}) });
  }
  return out;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
