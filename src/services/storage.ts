import { z } from 'zod';
import { checkArtifactKey, checkArtifactPrefix } from '../core/artifact-key.ts';
import type { ArtifactStore } from '../core/ports.ts';
import { defineRoute } from './route.ts';
import type { ServiceDefinition } from './service-server.ts';

/**
 * storage_service: the ArtifactStore port over HTTP (`dfa service storage`). It wraps whichever
 * store it is given (local disk, S3 — src/storage decides), so every service and worker that
 * points DFA_STORAGE_SERVICE_URL here sees the same artifacts. Objects travel as raw
 * application/octet-stream bodies (bounded by DFA_STORAGE_MAX_OBJECT_MB), keys in the query string,
 * checked (core/artifact-key.ts) before the store sees them. `dir()` has no HTTP form: it is a local
 * working folder, which the remote adapter keeps on the caller's machine (src/remote/artifacts.ts).
 */
export interface StorageServiceDeps {
  readonly store: ArtifactStore;
  /** Largest object accepted by PUT, bytes. */
  readonly maxObjectBytes: number;
}

const Key = z.object({ key: z.string().describe("artifact key: '/'-separated relative path, no '..'") });
const Prefix = z.object({ prefix: z.string().default('').describe("key prefix ('' lists everything)") });
const RemovePrefix = z.object({ prefix: z.string().min(1).describe('key prefix to remove (never everything at once)') });

export function storageService(deps: StorageServiceDeps): ServiceDefinition {
  const { store } = deps;
  return {
    name: 'storage',
    title: 'storage_service',
    description: 'Artifacts (volumes, label maps, RTSTRUCT/SEG, previews) by key; the results archive joins here (issue 13 §2).',
    upstreams: { store: () => store.list('.ready-probe') },
    routes: [
      defineRoute({
        method: 'GET',
        path: '/artifact',
        summary: 'An artifact’s bytes',
        query: Key,
        response: 'binary',
        errors: { 404: 'No such artifact (ARTIFACT_NOT_FOUND)' },
        handler: async ({ query }) => store.get(checkArtifactKey(query.key)),
      }),
      defineRoute<z.infer<typeof Key>, Buffer>({
        method: 'PUT',
        path: '/artifact',
        summary: 'Store an artifact (atomic for readers: the old bytes or the new, never half)',
        query: Key,
        body: 'binary',
        bodyLimit: deps.maxObjectBytes,
        response: z.object({ key: z.string(), bytes: z.number() }),
        errors: { 413: 'Larger than DFA_STORAGE_MAX_OBJECT_MB' },
        handler: async ({ query, body }) => {
          await store.put(checkArtifactKey(query.key), body);
          return { key: query.key, bytes: body.length };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/artifact/exists',
        summary: 'Whether an artifact is there',
        query: Key,
        response: z.object({ exists: z.boolean() }),
        handler: async ({ query }) => ({ exists: await store.exists(checkArtifactKey(query.key)) }),
      }),
      defineRoute({
        method: 'GET',
        path: '/artifacts',
        summary: 'Keys of the artifacts below a prefix, sorted',
        query: Prefix,
        response: z.object({ keys: z.array(z.string()) }),
        handler: async ({ query }) => ({ keys: await store.list(checkArtifactPrefix(query.prefix, true)) }),
      }),
      defineRoute({
        method: 'DELETE',
        path: '/artifacts',
        summary: 'Remove every artifact below a prefix',
        query: RemovePrefix,
        response: 'empty',
        handler: async ({ query }) => store.remove(checkArtifactPrefix(query.prefix, false)),
      }),
      // Results archive (issue 13 §2): GET /archive?study=|patient=|from=&to= goes here — a route over
      // ResultsArchive.query (src/storage/archive.ts) with the API's masking rules
      // (src/api/archive-routes.ts). It needs the shared database (DFA_DATABASE_URL), which this
      // service does not open yet; until then the agent's REST API serves GET /archive.
    ],
  };
}
