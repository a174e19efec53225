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


def augment_strong(x, y, g, rng):
    """The trap-aware recipe's augmentation (--aug strong), on a batch of N x H x W windowed slices:
    patient size / resolution (zoom 0.8-1.25), rotation +-10 deg, translation +-12 %; contrast (gain,
    offset, gamma); reconstruction kernel (soft: 3x3 Gaussian blur, sharp: unsharp mask); coarser
    pixels (2x down- and up-sampling); noise 0-45 HU. No flips: left and right must stay put.
    Labels and gas masks follow the geometry (nearest)."""
    n, h, w = x.shape
    zoom = rng.uniform(0.8, 1.25, n)
    ang = np.deg2rad(rng.uniform(-10, 10, n))
    t = rng.uniform(-0.12, 0.12, (n, 2))
    theta = np.zeros((n, 2, 3), np.float32)
    theta[:, 0, 0] = np.cos(ang) / zoom
    theta[:, 0, 1] = -np.sin(ang) / zoom
    theta[:, 1, 0] = np.sin(ang) / zoom
    theta[:, 1, 1] = np.cos(ang) / zoom
    theta[:, :, 2] = t
    grid = F.affine_grid(torch.from_numpy(theta), (n, 1, h, w), align_corners=False)
    xt = F.grid_sample(torch.from_numpy(x)[:, None], grid, mode='bilinear', padding_mode='zeros', align_corners=False)  # 0 = air (fill)
    yg = torch.from_numpy(np.stack([y, g], 1).astype(np.float32))
    yg = F.grid_sample(yg, grid, mode='nearest', padding_mode='zeros', align_corners=False)
    yt, gt = yg[:, 0].long(), yg[:, 1]
    # contrast: gain, offset, gamma (IV contrast and window calibration vary)
    xt = xt.clamp(0, 1) ** torch.from_numpy(rng.uniform(0.8, 1.25, (n, 1, 1, 1)).astype(np.float32))
    xt = xt * torch.from_numpy(rng.uniform(0.9, 1.1, (n, 1, 1, 1)).astype(np.float32)) + torch.from_numpy(rng.uniform(-0.04, 0.04, (n, 1, 1, 1)).astype(np.float32))
    k = torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]])[None, None] / 16
    blur = F.conv2d(F.pad(xt, (1, 1, 1, 1), mode='replicate'), k)
    kern = rng.uniform(0, 1, n)
    soft = torch.from_numpy((kern < 0.25).astype(np.float32))[:, None, None, None]
    sharp = torch.from_numpy(np.where(kern > 0.75, rng.uniform(0.5, 1.5, n), 0).astype(np.float32))[:, None, None, None]
    xt = xt * (1 - soft) + blur * soft + sharp * (xt - blur)
    coarse = torch.from_numpy((rng.uniform(0, 1, n) < 0.2).astype(np.float32))[:, None, None, None]
    lo = F.interpolate(F.avg_pool2d(xt, 2), scale_factor=2, mode='bilinear', align_corners=False)
    xt = xt * (1 - coarse) + lo * coarse
    xt = xt + torch.from_numpy(rng.normal(0, 1, xt.shape).astype(np.float32) * rng.uniform(0, 0.03, (n, 1, 1, 1)).astype(np.float32))
    return xt.clamp(0, 1).contiguous(), yt.contiguous(), gt.contiguous()


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
    ap.add_argument('--levels', type=int, default=4)  # U-Net depth (5: twice the field of view of 4)
    ap.add_argument('--base', type=int, default=8)  # channels of the first level
    ap.add_argument('--aug', choices=['basic', 'strong'], default='basic')
    # Sampling weight of each --data directory (comma-separated, one per directory; default equal per slice):
    # a directory's share of the batches is its weight / the sum of the weights.
    ap.add_argument('--mix', default=None)
    ap.add_argument('--gas-weight', type=float, default=0.0)  # extra cross-entropy weight on gas pockets (g.u8)
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)

    # --data takes one or more comma-separated dataset directories (same patch size and classes).
    metas, xs, ys, gs, src = [], [], [], [], []
    for d in a.data.split(','):
        meta = json.load(open(os.path.join(d, 'meta.json')))
        h, w = meta['height'], meta['width']
        metas.append(meta)
        xs.append(np.fromfile(os.path.join(d, 'x.f32'), dtype=np.float32).reshape(-1, h, w))
        ys.append(np.fromfile(os.path.join(d, 'y.u8'), dtype=np.uint8).reshape(-1, h, w))
        gp = os.path.join(d, 'g.u8')
        gs.append(np.fromfile(gp, dtype=np.uint8).reshape(-1, h, w) if os.path.exists(gp) else np.zeros_like(ys[-1]))
        src.append(np.full(len(ys[-1]), len(src)))
    X = np.concatenate(xs)
    Y = np.concatenate(ys)
    G = np.concatenate(gs)
    S = np.concatenate(src)
    perm = rng.permutation(len(X))
    nval = max(16, len(X) // 10)
    val, tr = perm[:nval], perm[nval:]
    print(f'{len(tr)} training / {len(val)} validation slices', flush=True)
    prob_tr = None
    if a.mix:
        mix = [float(v) for v in a.mix.split(',')]
        if len(mix) != len(metas):
            raise SystemExit('--mix needs one weight per --data directory')
        counts = np.bincount(S[tr], minlength=len(metas))
        prob_tr = np.array([mix[S[i]] / counts[S[i]] for i in tr])
        prob_tr /= prob_tr.sum()

    net = UNet2D(classes=meta['classes'], base=a.base, levels=a.levels)
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
        idx = rng.choice(tr, a.batch, replace=False, p=prob_tr)
        if a.aug == 'strong':
            xt, yt, gt = augment_strong(X[idx], Y[idx], G[idx], rng)
        else:
            xb, yb = augment(X[idx], Y[idx], rng, a.crop)
            xt = torch.from_numpy(xb[:, None])
            yt = torch.from_numpy(yb.astype(np.int64))
            gt = None
        logits = net(xt)
        if a.gas_weight > 0 and gt is not None:
            # per-pixel weights: class weight, times (1 + gas weight) on gas pockets that are not lung
            pw = cw[yt] * (1 + a.gas_weight * gt)
            ce = (F.cross_entropy(logits, yt, reduction='none') * pw).sum() / pw.sum()
        else:
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
    # whole slices are padded to a multiple of the U-Net's total down-sampling
    m['onnx']['sizeMultiple'] = max(m['onnx'].get('sizeMultiple', 8), 2 ** (a.levels - 1))
    m['training'] = {
        'script': 'ml/train (see README.md)',
        'data': [
            {'slices': m['count'], 'sources': sorted({p.get('source', 'synth') for p in m['perPhantom']}), 'volumes': m['phantoms'], 'seed': m['seed']}
            for m in metas
        ],
        'init': None if a.init is None else {'file': os.path.basename(a.init), 'sha256': init_sha},
        'iterations': a.iters, 'batch': a.batch, 'crop': a.crop, 'lr': a.lr, 'seed': a.seed,
        'levels': a.levels, 'base': a.base, 'aug': a.aug, 'mix': a.mix, 'gasWeight': a.gas_weight,
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
