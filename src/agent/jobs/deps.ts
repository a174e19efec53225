import type { Logger } from '../../core/log.ts';
import type { ModelManifest } from '../../core/model.ts';
import type { ArtifactStore, ImagingFhir, Pacs, SegmentWithQc, VolumeHost } from '../../core/ports.ts';
import type { LabelMap, Volume, VolumeInfo } from '../../core/volume.ts';
import type { OutageGuard } from './outage.ts';

/**
 * Everything a job needs from the other services, injected (src/agent/wiring.ts builds the real
 * ones from Config; tests pass in-memory fakes of the ports). Small function types stand in for the
 * dicom_handler / ml_processor entry points so the job logic does not depend on their files.
 */

/** Series → volume (dicom_handler). Files are Part 10 paths of one series. */
export type LoadVolume = (files: readonly string[]) => Promise<Volume>;

/** Segment with one named segmenter and run QC on the result (ml_processor; in process or remote). */
export type { SegmentWithQc } from '../../core/ports.ts';

/** What the RTSTRUCT / SEG writers get: the manifest lists only the labels to write (the plan's structures). */
export interface WriterInput {
  readonly volume: VolumeInfo;
  readonly labels: LabelMap;
  readonly manifest: ModelManifest;
}
/**
 * A Part 10 object and its UIDs. The writer derives them deterministically from (source series,
 * model name, model version), so a step re-executed after a crash writes the same object again.
 */
export interface WrittenDicom {
  readonly part10: Uint8Array;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}
export type WriteDicom = (input: WriterInput) => Promise<WrittenDicom>;

export interface JobDeps {
  readonly pacs: Pacs;
  readonly fhir: ImagingFhir;
  readonly artifacts: ArtifactStore;
  readonly loadVolume: LoadVolume;
  readonly segment: SegmentWithQc;
  /**
   * Where the job's volume is loaded and kept (segment and previews run there): a remote
   * ml_processor (src/remote/ml.ts). Absent: this process (volumeHostOf).
   */
  readonly volumeHost?: VolumeHost;
  readonly writeRtstruct: WriteDicom;
  readonly writeSeg?: WriteDicom;
  /** Circuit breakers per upstream: a job waits out an outage instead of spending its retries. */
  readonly outage?: OutageGuard;
  readonly log: Logger;
}
