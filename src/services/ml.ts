import { z } from 'zod';
import { checkArtifactKey } from '../core/artifact-key.ts';
import type { Logger } from '../core/log.ts';
import { DfaError } from '../core/errors.ts';
import type { ArtifactStore, SegmentWithQc } from '../core/ports.ts';
import type { Volume } from '../core/volume.ts';
import { decodeVolume } from '../core/volume-wire.ts';
import type { LoadVolume } from '../agent/jobs/deps.ts';
import { presentLocalPaths } from '../agent/jobs/artifact-files.ts';
import { LocalVolumeHost } from '../agent/jobs/local-volume-host.ts';
import { saveLabels } from '../agent/jobs/volume-artifacts.ts';
import type { LabelInfo } from '../core/model.ts';
import { checkArtifactPrefix } from '../core/artifact-key.ts';
import type { ModelRegistry } from '../ml/registry.ts';
import { defineRoute } from './route.ts';
import type { ServiceDefinition } from './service-server.ts';

/**
 * ml_processor (`dfa service ml`): the installed models and their manifests, and segmentation + QC
 * by artifact key. A request names a volume already in the shared artifact store and a model
 * (name + version); the service reads the volume there, runs the same segment-and-QC function the
 * agent runs in process (src/agent/segmenters.ts → src/ml/segment.ts), writes the label map back
 * to the store, and answers with its key, QC, volumes and the manifest — never voxels in JSON.
 * Wire format of both: src/core/volume-wire.ts. Several replicas may serve one agent
 * (src/remote/ml.ts spreads the calls and fails over).
 *
 * It is also where a job's volume lives when the agent segments remotely (the VolumeHost port):
 * POST /volumes/open loads the series from its DICOM keys once and saves the header, the segment
 * call (savedVolumeKey) and POST /previews use the volume held in memory — so the study crosses the
 * network once and is decoded once, and the agent only handles headers, labels and PNG keys.
 */
export interface MlServiceDeps {
  /** The artifact store shared with the agent (same local folder, the storage service, or S3). */
  readonly store: ArtifactStore;
  readonly segment: SegmentWithQc;
  readonly models: () => Promise<ModelRegistry>;
  /** DICOM files → volume (src/dicom/volume), for requests that name a job's saved volume. */
  readonly loadVolume?: LoadVolume;
  readonly log: Logger;
  readonly close?: () => Promise<void>;
}

export const ModelRef = z.object({
  name: z.string().min(1).max(64).describe("a manifest name, or a kind ('classical' / 'onnx')"),
  version: z.string().min(1).max(64).optional().describe('absent: the newest installed version'),
});
export const SegmentRequest = z
  .object({
    volumeKey: z.string().min(1).optional().describe('artifact key prefix holding volume.json + volume.raw (core/volume-wire.ts)'),
    savedVolumeKey: z.string().min(1).optional().describe("a job's saved volume (<job>/volume: volume.json naming the DICOM files' keys); loaded from those files"),
    model: ModelRef,
    labelsKey: z.string().min(1).optional().describe('where to write labels.json + labels.rle (default: <volumeKey>/labels/<name>@<version>)'),
  })
  .refine((b) => (b.volumeKey === undefined) !== (b.savedVolumeKey === undefined), 'exactly one of volumeKey and savedVolumeKey');
export const OpenVolumeRequest = z.strictObject({
  volumeKey: z.string().min(1).describe('where the job saves the volume (<job>/volume); its segment and preview requests name it'),
  sourceFiles: z.array(z.string().min(1)).min(1).max(10_000).describe('artifact keys of the DICOM files of one series'),
});
const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
export const VolumeInfoResponse = z.object({
  dims: Vec3.describe('[columns, rows, slices]'),
  spacing: Vec3.describe('mm'),
  origin: Vec3.describe('LPS mm, centre of voxel (0,0,0)'),
  direction: z.tuple([Vec3, Vec3, Vec3]),
  meta: z.record(z.string(), z.unknown()).describe('the series\' DICOM metadata: UIDs, patient, one entry per slice'),
});
const StoredPreviewView = z.object({ name: z.string(), key: z.string(), width: z.number(), height: z.number() });
export const PreviewsRequest = z.strictObject({
  volumeKey: z.string().min(1).describe('a saved volume (<job>/volume)'),
  labelsKey: z.string().min(1).describe('a saved label map (<job>/labels: labels.json + labels.rle)'),
  labels: z.array(z.object({ value: z.number().int().min(1).max(255), roiName: z.string().min(1).max(64), color: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]) }).loose()).min(1).max(255).describe('the structures to draw (model manifest labels)'),
  prefix: z.string().min(1).describe('where to write the PNGs'),
});
const Check = z.object({ name: z.string(), ok: z.boolean() }).loose();
export const SegmentResponse = z.object({
  labelsKey: z.string(),
  model: z.object({ name: z.string(), version: z.string() }),
  manifest: z.record(z.string(), z.unknown()).describe('the model manifest (labels → ROI names, colours, codes)'),
  qc: z.object({ ok: z.boolean(), checks: z.array(Check) }).loose(),
  volumesMl: z.record(z.string(), z.number()),
  coverage: z.record(z.string(), z.enum(['complete', 'partial'])),
  ms: z.number().describe('time spent segmenting and checking, ms'),
});
const InstalledModelView = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.string(),
  modality: z.string(),
  bodyPart: z.string(),
  manifest: z.record(z.string(), z.unknown()),
});
export const ModelsResponse = z.object({ models: z.array(InstalledModelView), problems: z.array(z.string()) });

export function mlService(deps: MlServiceDeps): ServiceDefinition {
  const { store, log } = deps;
  const sentVolume = async (key: string): Promise<Volume> => {
    const [header, raw] = await Promise.all([store.get(`${key}/volume.json`), store.get(`${key}/volume.raw`)]);
    return decodeVolume(header, raw, `volume ${key}`);
  };
  // A job's volume from its DICOM files in the store; the working copy goes once loaded (the volume
  // stays in memory for the calls that follow: volume-artifacts.ts keeps the last few).
  const release = async (files: readonly string[]) => {
    if (store.release) for (const p of new Set(files.map((f) => f.slice(0, Math.max(0, f.lastIndexOf('/')))))) if (p) await store.release(p);
  };
  // One load per list of DICOM keys at a time (two calls may ask together: they share the working
  // copy), and the copy goes afterwards, whether the files made a volume or not.
  const inFlight = new Map<string, Promise<Volume>>();
  const loadFromKeys = (load: LoadVolume) => (files: readonly string[]): Promise<Volume> => {
    const id = files.join('\n');
    let p = inFlight.get(id);
    if (!p) {
      p = (async () => {
        try {
          return await load(await presentLocalPaths(store, files));
        } finally {
          await release(files).catch((e: unknown) => log.warn('could not drop the working copy', { error: (e as Error).message }));
          inFlight.delete(id);
        }
      })();
      inFlight.set(id, p);
    }
    return p;
  };
  // The agent's VolumeHost, served: the volume lives here, the agent holds its header.
  const loadVolume = deps.loadVolume;
  const host = loadVolume ? new LocalVolumeHost({ store, loadVolume, segment: deps.segment, loadFiles: loadFromKeys(loadVolume), keysOnly: true }) : undefined;
  const needHost = (): LocalVolumeHost => {
    if (!host) throw new DfaError('CONFIG_INVALID', 'bad request: this ml_processor reads no DICOM; send volumeKey');
    return host;
  };
  return {
    name: 'ml',
    title: 'ml_processor',
    description: 'Installed segmentation models and their manifests; segmentation + QC of a volume in the artifact store, by key.',
    upstreams: {
      store: () => store.list('.ready-probe'),
      models: async () => {
        const reg = await deps.models();
        if (reg.models.length === 0) throw new Error(`no model installed (${reg.problems.length} problem(s))`);
      },
    },
    close: deps.close,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/models',
        summary: 'The installed models with their manifests (and folders that hold no valid one)',
        response: ModelsResponse,
        handler: async () => {
          const reg = await deps.models();
          return {
            models: reg.models.map(({ manifest: m }) => ({ name: m.name, version: m.version, kind: m.kind, modality: m.modality, bodyPart: m.bodyPart, manifest: m })),
            problems: reg.problems.map((p) => p.replace(/ in \/\S+/g, '')), // no server paths
          };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/volumes/open',
        summary: "Load a job's volume from its DICOM keys in the store and save its header under volumeKey (volume.json); answers the header. The volume stays in memory for the segment and preview calls that name it",
        body: OpenVolumeRequest,
        bodyLimit: 2 * 1024 * 1024, // 10,000 keys
        response: VolumeInfoResponse,
        errors: { 404: 'A DICOM file is not in the store (ARTIFACT_NOT_FOUND)', 422: 'The files do not make one volume (DICOM_*)' },
        handler: async ({ body }) => {
          const volumeKey = checkArtifactKey(body.volumeKey);
          const files = body.sourceFiles.map((f) => checkArtifactPrefix(f, false));
          const t0 = performance.now();
          const info = await needHost().open(volumeKey, files);
          log.info('volume opened', { volumeKey, slices: info.dims[2], ms: Math.round(performance.now() - t0) });
          return info;
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/previews',
        summary: "Render a saved volume's previews with a saved label map; PNGs written under prefix, answers their keys",
        body: PreviewsRequest,
        response: z.object({ previews: z.array(StoredPreviewView) }),
        errors: { 404: 'No saved volume or label map under the keys (ARTIFACT_NOT_FOUND)' },
        handler: async ({ body }) => {
          const req = {
            volumeKey: checkArtifactKey(body.volumeKey),
            labelsKey: checkArtifactKey(body.labelsKey),
            prefix: checkArtifactKey(body.prefix),
            labels: body.labels as unknown as readonly LabelInfo[],
          };
          return { previews: await needHost().renderPreviews(req) };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/segment',
        summary: 'Segment the volume stored under volumeKey with one model, run QC, store the label map; answers its key',
        body: SegmentRequest,
        response: SegmentResponse,
        errors: { 404: 'No volume under volumeKey (ARTIFACT_NOT_FOUND)', 422: 'Every segmenter threw on this volume (SEGMENTATION_FAILED)' },
        handler: async ({ body, reply }) => {
          const volumeKey = checkArtifactKey((body.volumeKey ?? body.savedVolumeKey ?? '').replace(/\/+$/, ''));
          const ref = body.model.version ? `${body.model.name}@${body.model.version}` : body.model.name;
          // The caller went away (gave up, or failed over after a timeout): stop the work.
          const abort = new AbortController();
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) abort.abort(new Error('the caller closed the connection'));
          });
          const t0 = performance.now();
          log.info('segment request', { volumeKey, model: ref });
          const volume = body.savedVolumeKey ? await needHost().volume(volumeKey) : await sentVolume(volumeKey);
          const out = await deps.segment(volume, ref, { signal: abort.signal });
          const labelsKey = checkArtifactKey(body.labelsKey ?? `${volumeKey}/labels/${out.manifest.name}@${out.manifest.version}`);
          // Runs first, header last (a reader that finds the header finds whole runs); kept in memory
          // too, for the job's preview call.
          await saveLabels(store, labelsKey, out.labels);
          const ms = Math.round(performance.now() - t0);
          log.info('segmented', { volumeKey, model: `${out.manifest.name}@${out.manifest.version}`, qcOk: out.qc.ok, ms });
          return {
            labelsKey,
            model: { name: out.manifest.name, version: out.manifest.version },
            manifest: out.manifest,
            qc: out.qc,
            volumesMl: out.volumesMl,
            coverage: out.qc.coverage ?? {},
            ms,
          };
        },
      }),
    ],
  };
}
