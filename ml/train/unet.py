"""Small 2D U-Net for lung segmentation (3 classes: background, Lung_L, Lung_R).

4 levels (base 8 channels: 8-16-32-64), two 3x3 conv + BatchNorm + ReLU per level, max-pool down,
transposed-conv up, skip connections. About 120k parameters, < 1 MB as ONNX.
"""
import torch
import torch.nn as nn


def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet2D(nn.Module):
    def __init__(self, classes=3, base=8, levels=4):
        super().__init__()
        ch = [base * 2 ** i for i in range(levels)]
        self.down = nn.ModuleList([block(1 if i == 0 else ch[i - 1], ch[i]) for i in range(levels)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(ch[i], ch[i - 1], 2, stride=2) for i in range(levels - 1, 0, -1)])
        self.dec = nn.ModuleList([block(ch[i - 1] * 2, ch[i - 1]) for i in range(levels - 1, 0, -1)])
        self.head = nn.Conv2d(ch[0], classes, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = self.pool(x)
        for up, dec in zip(self.up, self.dec):
            x = up(x)
            x = dec(torch.cat([x, skips.pop()], 1))
        return self.head(x)


class WithSoftmax(nn.Module):
    """What we export: the graph ends in softmax, so the ONNX output is class probabilities."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), 1)


def load(path):
    """Weights from a state dict; depth and width are read from it (v1.0.0: 4 levels, base 8)."""
    sd = torch.load(path, map_location='cpu')
    levels = len({k.split('.')[1] for k in sd if k.startswith('down.')})
    net = UNet2D(classes=sd['head.weight'].shape[0], base=sd['down.0.0.weight'].shape[0], levels=levels)
    net.load_state_dict(sd)
    net.eval()
    return net
