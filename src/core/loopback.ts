/**
 * Whether a bind address or host name stays on this machine. Embedded servers (dev PACS, dev FHIR,
 * DICOMweb, the REST API with DFA_API_AUTH=none) may listen without credentials only there
 * (issue 10 §3); '0.0.0.0', '::' or a real interface need credentials.
 */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

export const isLoopbackHost = (host: string): boolean => LOOPBACK.test(host.trim());
