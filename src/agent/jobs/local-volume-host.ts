import type { ArtifactStore, PreviewRequest, SegmentWithQc, StoredPreview, VolumeHost } from '../../core/ports.ts';
import type { Volume, VolumeGeometry, VolumeInfo } from '../../core/volume.ts';
import { presentLocalPaths } from './artifact-files.ts';
import type { JobDeps, LoadVolume } from './deps.ts';
import { savePreviews } from './preview-artifacts.ts';
import { loadSavedLabels, loadSavedVolume, saveLabels, saveVolume, volumeInfoOf } from './volume-artifacts.ts';

/**
 * The VolumeHost of an agent that segments in process (the default): the volume is loaded here,
 * from this process's working copy of the DICOM files, and kept in memory for the steps that
 * follow (volume-artifacts.ts). The ml_processor service runs this same class for its callers.
 */
export class LocalVolumeHost implements VolumeHost {
  private readonly store: ArtifactStore;
  private readonly loadVolume: LoadVolume;
  private readonly segmentWithQc: SegmentWithQc;
  private readonly loadFiles: (files: readonly string[]) => Promise<Volume>;
  private readonly keysOnly: boolean;

  /**
   * `loadFiles`: how DICOM keys become a volume (default: their local copies, `loadVolume`).
   * `keysOnly`: a service loading volumes others saved takes artifact keys only, never a local path
   * from a header (volume-artifacts.ts).
   */
  constructor(o: { store: ArtifactStore; loadVolume: LoadVolume; segment: SegmentWithQc; loadFiles?: (files: readonly string[]) => Promise<Volume>; keysOnly?: boolean }) {
    this.store = o.store;
    this.keysOnly = o.keysOnly ?? false;
    this.loadVolume = o.loadVolume;
    this.segmentWithQc = o.segment;
    this.loadFiles = o.loadFiles ?? (async (files) => o.loadVolume(await presentLocalPaths(o.store, files)));
  }

  async open(volumeKey: string, sourceFiles: readonly string[]): Promise<VolumeInfo> {
    const v = await this.loadFiles(sourceFiles);
    await saveVolume(this.store, volumeKey, v, sourceFiles);
    return volumeInfoOf(v);
  }

  /** The saved volume (from memory when this process saved or loaded it last). */
  volume(volumeKey: string): Promise<Volume> {
    return loadSavedVolume(this.store, volumeKey, this.loadVolume, { keysOnly: this.keysOnly, load: this.loadFiles });
  }

  async segment(volumeKey: string, _geometry: VolumeGeometry, segmenter: string, opts: { labelsKey: string; signal?: AbortSignal }) {
    const out = await this.segmentWithQc(await this.volume(volumeKey), segmenter, { signal: opts.signal, volumeKey });
    await saveLabels(this.store, opts.labelsKey, out.labels);
    return out;
  }

  async renderPreviews(req: PreviewRequest): Promise<StoredPreview[]> {
    const [v, labels] = await Promise.all([this.volume(req.volumeKey), loadSavedLabels(this.store, req.labelsKey)]);
    return savePreviews(this.store, req.prefix, v, labels, req.labels);
  }
}

/** The job's VolumeHost: the configured remote one, else this process. */
export function volumeHostOf(deps: Pick<JobDeps, 'volumeHost' | 'artifacts' | 'loadVolume' | 'segment'>): VolumeHost {
  return deps.volumeHost ?? new LocalVolumeHost({ store: deps.artifacts, loadVolume: deps.loadVolume, segment: deps.segment });
}
