/**
 * The image volume every service shares. One coordinate convention inside the system:
 * DICOM patient coordinates (LPS), millimetres (PS3.3 C.7.6.2.1.1).
 *
 * Voxel (i, j, k) — i = column index, j = row index, k = slice index — lies at
 *   origin + i * spacing[0] * rowDir + j * spacing[1] * colDir + k * spacing[2] * sliceDir
 * where rowDir / colDir are ImageOrientationPatient's first / second triplet and sliceDir is the
 * direction of increasing k (for a plain axial stack: rowDir × colDir, or its opposite when the
 * slices run the other way). Note: DICOM PixelSpacing is [between rows, between columns], so
 * spacing[0] = PixelSpacing[1] and spacing[1] = PixelSpacing[0].
 * Data is stored x-fastest: index = i + j * nx + k * nx * ny.
 */
export type Vec3 = readonly [number, number, number];

export interface VolumeGeometry {
  readonly dims: Vec3; // [nx (columns), ny (rows), nz (slices)]
  readonly spacing: Vec3; // mm: [column spacing, row spacing, slice spacing]
  readonly origin: Vec3; // LPS mm, centre of voxel (0,0,0) = IPP of slice 0
  /** Direction cosines as [rowDir, colDir, sliceDir], each a unit vector in LPS. */
  readonly direction: readonly [Vec3, Vec3, Vec3];
}

export interface SliceRef {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  /** ImagePositionPatient of this slice (LPS mm). */
  readonly position: Vec3;
}

export interface VolumeMeta {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly frameOfReferenceUid: string;
  readonly modality: string;
  readonly patientId: string;
  readonly patientName: string;
  readonly patientBirthDate?: string;
  readonly patientSex?: string;
  readonly studyDate?: string;
  readonly studyTime?: string;
  readonly studyId?: string;
  readonly accessionNumber?: string;
  readonly referringPhysicianName?: string;
  readonly studyDescription?: string;
  readonly seriesDescription?: string;
  /** One per k index, in volume order. For a multi-frame image all share the SOP Instance UID. */
  readonly slices: readonly SliceRef[];
}

/**
 * A volume without its voxels: geometry and DICOM metadata. What the RTSTRUCT / SEG writers need,
 * and all an agent holds when the volume itself lives with a remote ml_processor (issue 13).
 */
export interface VolumeInfo extends VolumeGeometry {
  readonly meta: VolumeMeta;
}

export interface Volume extends VolumeInfo {
  /** Hounsfield units for CT (Rescale Slope/Intercept applied). */
  readonly data: Float32Array | Int16Array;
}

/** A label map on a volume's grid: 0 = background, label values as in the model manifest. */
export interface LabelMap extends VolumeGeometry {
  readonly data: Uint8Array;
}

export function voxelCount(g: Pick<VolumeGeometry, 'dims'>): number {
  return g.dims[0] * g.dims[1] * g.dims[2];
}

/** Patient (LPS mm) position of continuous voxel index (i, j, k). */
export function indexToPatient(g: VolumeGeometry, i: number, j: number, k: number): [number, number, number] {
  const [r, c, s] = g.direction;
  const a = i * g.spacing[0];
  const b = j * g.spacing[1];
  const d = k * g.spacing[2];
  return [
    g.origin[0] + a * r[0] + b * c[0] + d * s[0],
    g.origin[1] + a * r[1] + b * c[1] + d * s[1],
    g.origin[2] + a * r[2] + b * c[2] + d * s[2],
  ];
}

/** Continuous voxel index of a patient (LPS mm) point; inverse of indexToPatient for orthonormal directions. */
export function patientToIndex(g: VolumeGeometry, p: Vec3): [number, number, number] {
  const v = [p[0] - g.origin[0], p[1] - g.origin[1], p[2] - g.origin[2]];
  const dot = (u: Vec3) => v[0] * u[0] + v[1] * u[1] + v[2] * u[2];
  const [r, c, s] = g.direction;
  return [dot(r) / g.spacing[0], dot(c) / g.spacing[1], dot(s) / g.spacing[2]];
}

/** Volume of one voxel in millilitres. */
export function voxelVolumeMl(g: Pick<VolumeGeometry, 'spacing'>): number {
  return (g.spacing[0] * g.spacing[1] * g.spacing[2]) / 1000;
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
