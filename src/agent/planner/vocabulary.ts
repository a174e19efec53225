/**
 * Words people use in imaging goals, mapped to what the plan needs. Structure names are AAPM
 * TG-263; whether a structure can be served is decided by the installed model manifests, not here.
 */
export interface StructureWords {
  readonly re: RegExp;
  readonly structures: readonly string[];
  readonly said: string;
}

// Order matters: the more specific phrase first ("left lung" before "lungs").
export const STRUCTURES: readonly StructureWords[] = [
  { re: /\bleft lung\b/, structures: ['Lung_L'], said: 'left lung' },
  { re: /\bright lung\b/, structures: ['Lung_R'], said: 'right lung' },
  { re: /\b(both )?lungs?\b|\bpulmonary\b|\blung (fields?|parenchyma)\b/, structures: ['Lung_L', 'Lung_R'], said: 'lungs' },
  { re: /\bliver\b|\bhepatic\b/, structures: ['Liver'], said: 'liver' },
  { re: /\bheart\b|\bcardiac\b/, structures: ['Heart'], said: 'heart' },
  { re: /\bkidneys?\b|\brenal\b/, structures: ['Kidney_L', 'Kidney_R'], said: 'kidneys' },
  { re: /\bspleen\b/, structures: ['Spleen'], said: 'spleen' },
  { re: /\bbrain\b/, structures: ['Brain'], said: 'brain' },
  { re: /\bprostate\b/, structures: ['Prostate'], said: 'prostate' },
  { re: /\bbladder\b/, structures: ['Bladder'], said: 'bladder' },
  { re: /\bo?esophagus\b/, structures: ['Esophagus'], said: 'esophagus' },
  { re: /\bspinal cord\b/, structures: ['SpinalCord'], said: 'spinal cord' },
  { re: /\bpancreas\b/, structures: ['Pancreas'], said: 'pancreas' },
  { re: /\brectum\b/, structures: ['Rectum'], said: 'rectum' },
  { re: /\bparotids?\b/, structures: ['Parotid_L', 'Parotid_R'], said: 'parotids' },
  { re: /\b(tumou?rs?|lesions?|nodules?|gtv)\b/, structures: ['GTV'], said: 'tumour / lesion' },
];

export const MODALITIES: readonly { re: RegExp; modality: string; said: string }[] = [
  { re: /\bct\b|\bcomputed tomography\b|\bcat scans?\b|\bcts\b/, modality: 'CT', said: 'CT' },
  { re: /\bmri?\b|\bmagnetic resonance\b|\bmris\b/, modality: 'MR', said: 'MR' },
  { re: /\bpet\b|\bpet-ct\b/, modality: 'PT', said: 'PET' },
  { re: /\bx-?rays?\b|\bradiographs?\b|\bcxr\b/, modality: 'DX', said: 'X-ray' },
  { re: /\bultrasound\b|\bsonograph/, modality: 'US', said: 'ultrasound' },
];

export const TASK_RE =
  /\b(analy[sz]e|analysis|segment(ation)?|contour(ing|s)?|auto-?contour(ing)?|delineat\w*|outline|process|run|re-?run|redo|re-?process|re-?contour|label)\b/;
export const PENDING_RE = /\b(pending|registered|new|unprocessed|waiting|queued|outstanding|not yet (analy[sz]ed|processed|contoured))\b/;
export const RERUN_RE = /\b(re-?run|redo|re-?do|again|repeat|re-?process|re-?contour|re-?analy[sz]e|re-?segment)\b/;
export const DONE_RE = /\b(available|already (processed|analy[sz]ed|contoured)|completed|finished)\b/;

export const RTSTRUCT_RE = /\brt-?structs?\b|\brt ?structure( set)?s?\b|\brtss\b|\bstructure sets?\b/;
export const SEG_RE = /\b(dicom[- ])?segs?\b|\bsegmentation objects?\b|\bseg objects?\b/;
export const ONLY_RE = /\b(only|just|solely)\b/;
export const NO_FHIR_RE = /\b(no|without|skip(ping)?|don'?t|do not|never)\b[^.,;]{0,25}\b(fhir|report|diagnosticreport)\b/;
export const UNKNOWN_OUTPUT_RE = /\b(nifti|nii|nrrd|stl|meshe?s?|obj files?|pdfs?|png|jpe?g|excel|csv|powerpoint|dicom-?sr|structured reports?)\b/;

export const STOW_RE = /\bstow(-rs)?\b|\bdicomweb\b/;
export const CSTORE_RE = /\bc-?store\b|\bdimse\b/;

export const ONNX_RE = /\bu-?net\b|\bonnx\b|\bdeep[- ]learning\b|\bneural (net|network)\b|\bai model\b|\bmonai\b|\bdl model\b/;
export const CLASSICAL_RE = /\bclassical\b|\bthreshold(ing)?\b|\brule-?based\b|\bnon-?ai\b|\bconventional\b/;

export const UID_RE = /\b[0-2](?:\.(?:0|[1-9]\d*)){2,}\b/g;
export const LIMIT_RE =
  /\b(?:first|next|up to|at most|max(?:imum)?|limit(?:ed)? to|only)\s+(\d{1,4})\b|\b(\d{1,4})(?=\s+(?:pending\s+|new\s+|registered\s+)?(?:ct\s+|chest\s+)?(?:studies|scans|exams|cases|series|cts)\b)/;
// "do not segment …", "don't contour …": the goal asks for nothing to be done.
export const NEGATED_TASK_RE =
  /\b(?:do not|don'?t|dont|never|not|no need to|no)\s+(?:\w+\s+)?(?:analy[sz]e|segment\w*|contour\w*|auto-?contour\w*|delineat\w*|process\w*|run|re-?run)\b/;
export const NO_SEG_RE = /\b(?:no|without|not|skip(?:ping)?|don'?t write|do not write)\s+(?:a\s+|the\s+|any\s+)?(?:dicom[- ])?segs?\b(?:\s+objects?)?/;
export const NO_RTSTRUCT_RE = /\b(?:no|without|not|skip(?:ping)?|don'?t write|do not write)\s+(?:a\s+|the\s+|any\s+)?(?:rt-?structs?|rtss|structure sets?)\b/;

/** Review policy words: "for review", "hold for approval" → always; "no review" → never. */
export const REVIEW_ALWAYS_RE =
  /\b(?:for\s+(?:a\s+|human\s+|clinician\s+|physician\s+)?review|hold\s+(?:them\s+|it\s+)?for\s+(?:review|approval)|with\s+(?:a\s+)?review|review\s+(?:them\s+|it\s+|the\s+contours\s+)?before\s+(?:storing|sending)|after\s+approval)\b/;
export const REVIEW_NEVER_RE = /\b(?:no\s+review|without\s+(?:a\s+)?review|skip\s+(?:the\s+)?review)\b/;
export const REVIEW_QC_RE = /\breview\s+(?:only\s+)?(?:when|if|on)\s+(?:the\s+)?qc\s+fail(?:s|ure)?\b/;
