/** SOP class and transfer syntax UIDs used by the DIMSE layer (PS3.4 annex B/C, PS3.5 A, PS3.6 A). */
export const VERIFICATION = '1.2.840.10008.1.1';
// PS3.4 C.6.2: Study Root Query/Retrieve Information Model (Patient Root is not needed for study/series work).
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
export const STUDY_ROOT_GET = '1.2.840.10008.5.1.4.1.2.2.3';

export const TS = {
  IMPLICIT_LE: '1.2.840.10008.1.2',
  EXPLICIT_LE: '1.2.840.10008.1.2.1',
  DEFLATED_LE: '1.2.840.10008.1.2.1.99',
  EXPLICIT_BE: '1.2.840.10008.1.2.2',
  JPEG_BASELINE: '1.2.840.10008.1.2.4.50',
  JPEG_EXTENDED: '1.2.840.10008.1.2.4.51',
  JPEG_LOSSLESS: '1.2.840.10008.1.2.4.57',
  JPEG_LOSSLESS_SV1: '1.2.840.10008.1.2.4.70',
  JPEG_LS_LOSSLESS: '1.2.840.10008.1.2.4.80',
  JPEG_LS_NEAR: '1.2.840.10008.1.2.4.81',
  JPEG2000_LOSSLESS: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  RLE: '1.2.840.10008.1.2.5',
} as const;

/** What we accept when receiving (C-STORE SCP, C-GET SCU): we store bytes as received, so any of these. */
export const ACCEPTED_TRANSFER_SYNTAXES: readonly string[] = [
  TS.EXPLICIT_LE,
  TS.IMPLICIT_LE,
  TS.JPEG_LOSSLESS_SV1,
  TS.JPEG_LOSSLESS,
  TS.JPEG2000_LOSSLESS,
  TS.JPEG2000,
  TS.JPEG_LS_LOSSLESS,
  TS.JPEG_LS_NEAR,
  TS.RLE,
  TS.JPEG_BASELINE,
  TS.JPEG_EXTENDED,
  TS.DEFLATED_LE,
  TS.EXPLICIT_BE,
];

/** Storage SOP classes we propose for C-GET and accept as SCP (PS3.4 B.5). Kept under 120 so that
 * Verification + Q/R + these fit the 128 presentation contexts of one association (PS3.8 9.3.2.2). */
export const STORAGE_SOP_CLASSES: readonly string[] = [
  '1.2.840.10008.5.1.4.1.1.2', // CT Image
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT Image
  '1.2.840.10008.5.1.4.1.1.2.2', // Legacy Converted Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4', // MR Image
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR Image
  '1.2.840.10008.5.1.4.1.1.128', // PET Image
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET
  '1.2.840.10008.5.1.4.1.1.1', // CR Image
  '1.2.840.10008.5.1.4.1.1.1.1', // Digital X-Ray (presentation)
  '1.2.840.10008.5.1.4.1.1.1.1.1', // Digital X-Ray (processing)
  '1.2.840.10008.5.1.4.1.1.1.2', // Digital Mammography (presentation)
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound Image
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame
  '1.2.840.10008.5.1.4.1.1.20', // NM Image
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit SC
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte SC
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word SC
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color SC
  '1.2.840.10008.5.1.4.1.1.12.1', // X-Ray Angiographic
  '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.481.8', // RT Ion Plan
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial Registration
  '1.2.840.10008.5.1.4.1.1.66.3', // Deformable Spatial Registration
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic Text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.88.67', // X-Ray Radiation Dose SR
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State
  '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
];
