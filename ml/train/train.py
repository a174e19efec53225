"""Train the small lung U-Net on the set written by make-dataset.ts, then export it to ONNX.

    /usr/bin/python3 ml/train/train.py --data /tmp/lung-ds,/tmp/lung-real --out models/lung-unet --iters 800

Reproducible: fixed seeds, deterministic algorithms, single-process data pipeline, a fixed number
of iterations (never a time budget). CPU only; a GPU is neither needed nor used.
"""
import argparse
import hashlib
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from export import export_onnx
from unet import UNet2D


def dice_per_class(pred, y, classes):
    out = []
    for c in classes:
        p = pred == c
        t = y == c
        denom = p.sum() + t.sum()
        out.append(float(2 * (p & t).sum() / denom) if denom > 0 else 1.0)
    return out


def augment(x, y, rng, crop=0):
    """Intensity gain/offset, noise, small translations. No flips: left and right must stay put."""
    n, h, w = x.shape
    x = x * rng.uniform(0.9, 1.1, (n, 1, 1)).astype(np.float32) + rng.uniform(-0.05, 0.05, (n, 1, 1)).astype(np.float32)
    x = x + rng.normal(0, 1, x.shape).astype(np.float32) * rng.uniform(0, 0.03, (n, 1, 1)).astype(np.float32)
    xo = np.empty_like(x)
    yo = np.empty_like(y)
    fill = 0.0  # window min: air, like the runtime's fill value
    for i in range(n):
        dy, dx = rng.integers(-12, 13, 2)
        xo[i] = fill
        yo[i] = 0
        ys, yd = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
        xs, xd = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
        xo[i, ys, xs] = x[i, yd, xd]
        yo[i, ys, xs] = y[i, yd, xd]
    if 0 < crop < min(h, w):
        # one random crop per batch (the net is fully convolutional): cheaper iterations on CPU
        cy, cx = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        xo, yo = np.ascontiguousarray(xo[:, cy:cy + crop, cx:cx + crop]), np.ascontiguousarray(yo[:, cy:cy + crop, cx:cx + crop])
    return xo, yo


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--iters', type=int, default=800)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)  # 1 beats 2 on busy shared cores (spin-waits)
    # Start from existing weights (fine-tuning), e.g. the previous release's lung-unet.pt.
    ap.add_argument('--init', default=None)
    ap.add_argument('--crop', type=int, default=0)  # train on random crop x crop windows of the patches (0: whole)
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)

    # --data takes one or more comma-separated dataset directories (same patch size and classes).
    metas, xs, ys = [], [], []
    for d in a.data.split(','):
        meta = json.load(open(os.path.join(d, 'meta.json')))
        h, w = meta['height'], meta['width']
        metas.append(meta)
        xs.append(np.fromfile(os.path.join(d, 'x.f32'), dtype=np.float32).reshape(-1, h, w))
        ys.append(np.fromfile(os.path.join(d, 'y.u8'), dtype=np.uint8).reshape(-1, h, w))
    X = np.concatenate(xs)
    Y = np.concatenate(ys)
    perm = rng.permutation(len(X))
    nval = max(16, len(X) // 10)
    val, tr = perm[:nval], perm[nval:]
    print(f'{len(tr)} training / {len(val)} validation slices', flush=True)

    net = UNet2D(classes=meta['classes'])
    init_sha = None
    if a.init:
        net.load_state_dict(torch.load(a.init, map_location='cpu'))
        init_sha = hashlib.sha256(open(a.init, 'rb').read()).hexdigest()
        print(f'initialised from {a.init} (sha256 {init_sha})', flush=True)
    params = sum(p.numel() for p in net.parameters())
    print(f'{params} parameters', flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.iters, pct_start=0.1)
    # Class weights: lungs are a minority of pixels.
    cw = torch.tensor([0.5, 1.0, 1.0])
    t0 = time.time()
    net.train()
    for it in range(a.iters):
        idx = rng.choice(tr, a.batch, replace=False)
        xb, yb = augment(X[idx], Y[idx], rng, a.crop)
        xt = torch.from_numpy(xb[:, None])
        yt = torch.from_numpy(yb.astype(np.int64))
        logits = net(xt)
        ce = F.cross_entropy(logits, yt, weight=cw)
        prob = torch.softmax(logits, 1)
        onehot = F.one_hot(yt, meta['classes']).permute(0, 3, 1, 2).float()
        inter = (prob * onehot).sum((0, 2, 3))
        soft_dice = 1 - (2 * inter[1:] + 1) / (prob.sum((0, 2, 3))[1:] + onehot.sum((0, 2, 3))[1:] + 1)
        loss = ce + soft_dice.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 25 == 0 or it == a.iters - 1:
            print(f'iter {it} loss {loss.item():.4f} ce {ce.item():.4f} {time.time() - t0:.0f}s', flush=True)
    train_s = time.time() - t0

    net.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(val), 64):
            preds.append(net(torch.from_numpy(X[val[i:i + 64]][:, None])).argmax(1).numpy())
    pred = np.concatenate(preds)
    vd = dice_per_class(pred, Y[val], [1, 2])
    print(f'validation Dice Lung_L {vd[0]:.4f} Lung_R {vd[1]:.4f}', flush=True)

    os.makedirs(a.out, exist_ok=True)
    pt = os.path.join(a.out, 'lung-unet.pt')
    torch.save(net.state_dict(), pt)
    onnx_path = os.path.join(a.out, 'lung-unet.onnx')
    export_onnx(net, h, w, onnx_path)
    sha = hashlib.sha256(open(onnx_path, 'rb').read()).hexdigest()
    mpath = os.path.join(a.out, 'manifest.json')
    m = json.load(open(mpath))
    m['onnx']['sha256'] = sha
    m['training'] = {
        'script': 'ml/train (see README.md)',
        'data': [
            {'slices': m['count'], 'sources': sorted({p.get('source', 'synth') for p in m['perPhantom']}), 'volumes': m['phantoms'], 'seed': m['seed']}
            for m in metas
        ],
        'init': None if a.init is None else {'file': os.path.basename(a.init), 'sha256': init_sha},
        'iterations': a.iters, 'batch': a.batch, 'crop': a.crop, 'lr': a.lr, 'seed': a.seed,
        'parameters': params, 'trainSeconds': round(train_s), 'threads': a.threads,
        'validationDice': {'Lung_L': round(vd[0], 4), 'Lung_R': round(vd[1], 4)},
        'torch': torch.__version__, 'opset': 17,
    }
    with open(mpath, 'w') as f:
        json.dump(m, f, indent=2)
        f.write('\n')
    print(f'exported {onnx_path} ({os.path.getsize(onnx_path)} bytes, sha256 {sha}); train {train_s:.0f}s', flush=True)


if __name__ == '__main__':
    main()
