"""Independent SEG reader for the tests: pydicom decodes a DICOM SEG and prints, as JSON, its
segments and, per frame, the segment number, plane geometry and the foreground pixel indices.
Usage: /usr/bin/python3 seg_pydicom.py seg.dcm"""
import json
import sys

import numpy as np
import pydicom

ds = pydicom.dcmread(sys.argv[1])
px = ds.pixel_array  # pydicom unpacks 1-bit frames itself
if px.ndim == 2:
    px = px[np.newaxis]
shared = ds.SharedFunctionalGroupsSequence[0]
out = {
    "sopClassUid": ds.SOPClassUID,
    "rows": int(ds.Rows),
    "columns": int(ds.Columns),
    "orientation": [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
    "pixelSpacing": [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing],
    "segments": [
        {
            "number": int(s.SegmentNumber),
            "label": str(s.SegmentLabel),
            "type": str(s.SegmentedPropertyTypeCodeSequence[0].CodeValue),
            "category": str(s.SegmentedPropertyCategoryCodeSequence[0].CodeValue),
        }
        for s in ds.SegmentSequence
    ],
    "frames": [],
}
for n, fg in enumerate(ds.PerFrameFunctionalGroupsSequence):
    out["frames"].append(
        {
            "segment": int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
            "position": [float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient],
            "source": str(fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID),
            "on": np.flatnonzero(px[n].reshape(-1)).tolist(),
        }
    )
json.dump(out, sys.stdout)
