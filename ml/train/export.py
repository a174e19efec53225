"""Export the lung U-Net to ONNX (also usable alone, to re-export committed weights):

    /usr/bin/python3 ml/train/export.py models/lung-unet/lung-unet.pt models/lung-unet/lung-unet.onnx

Softmax is inside the graph (output = class probabilities). Batch, height and width are dynamic:
the network is fully convolutional, so the runtime may feed whole slices (any size that is a
multiple of 8, the U-Net's total down-sampling) instead of sliding 128x128 windows over them.
"""
import hashlib
import sys

import torch

from unet import WithSoftmax, load


def export_onnx(net, h, w, path):
    net.eval()
    torch.onnx.export(
        WithSoftmax(net), torch.zeros(1, 1, h, w), path, opset_version=17,
        input_names=['image'], output_names=['probabilities'],
        dynamic_axes={'image': {0: 'batch', 2: 'height', 3: 'width'}, 'probabilities': {0: 'batch', 2: 'height', 3: 'width'}},
    )
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


if __name__ == '__main__':
    print(export_onnx(load(sys.argv[1]), 128, 128, sys.argv[2]))
