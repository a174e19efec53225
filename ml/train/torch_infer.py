"""Run the committed PyTorch weights on raw float32 slices; used by the export-parity test.

    /usr/bin/python3 ml/train/torch_infer.py WEIGHTS.pt INPUT.f32 N H W OUTPUT.f32

INPUT: N x 1 x H x W float32 (already preprocessed); OUTPUT: N x C x H x W softmax probabilities.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import WithSoftmax, load  # noqa: E402


def main():
    weights, inp, n, h, w, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    torch.set_num_threads(1)
    x = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(n, 1, h, w))
    with torch.no_grad():
        p = WithSoftmax(load(weights))(x)
    p.numpy().astype(np.float32).tofile(out)


if __name__ == '__main__':
    main()
