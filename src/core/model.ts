/**
 * What a segmentation model declares about itself (MONAI-deploy style: model metadata drives the
 * output). RTSTRUCT/SEG writers and the FHIR report take ROI names, colours and codes from here.
 */
export interface CodedConcept {
  /** Coding scheme designator as in DICOM (PS3.16): 'SCT' for SNOMED CT. */
  readonly scheme: string;
  readonly code: string;
  readonly meaning: string;
}

export interface LabelInfo {
  /** Value in the label map. */
  readonly value: number;
  /** AAPM TG-263 structure name, e.g. 'Lung_L'. */
  readonly roiName: string;
  readonly color: readonly [number, number, number];
  /** What the structure is (SNOMED CT left lung 44029006, right lung 3341006). */
  readonly concept: CodedConcept;
  /** Segmented property category (PS3.16 CID 7150), e.g. SCT 123037004 'Anatomical Structure'. */
  readonly category: CodedConcept;
}

export interface ModelManifest {
  readonly name: string;
  readonly version: string;
  readonly kind: 'classical' | 'onnx';
  readonly modality: string; // 'CT'
  readonly bodyPart: string; // 'CHEST'
  readonly description?: string;
  readonly labels: readonly LabelInfo[];
}

export interface QcCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly value: number | string;
  readonly expected: string;
}

/** Whether a structure lies wholly inside the scan, or is cut by its superior/inferior end. */
export type Coverage = 'complete' | 'partial';

export interface QcResult {
  readonly ok: boolean;
  readonly checks: readonly QcCheck[];
  /** Per structure (ROI name) that has any voxels: complete, or cut by the scan's end (partial coverage). */
  readonly coverage?: Readonly<Record<string, Coverage>>;
  /** The segmenter found no lung at all: the scan does not show it (a job skips such a study). */
  readonly noLung?: boolean;
  /** Which limits were applied and why (patient age, or "age unknown: adult limits"). */
  readonly limits?: { readonly population: string; readonly basis: string };
}

export const SCT_ANATOMICAL_STRUCTURE: CodedConcept = {
  scheme: 'SCT',
  code: '123037004',
  meaning: 'Anatomical Structure',
};
