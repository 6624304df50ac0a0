"""check_forward.py — the PyTorch twin (diffuscope_ref.py) against `diffuscope forward`.

Runs the same weights on the same inputs in PyTorch (float64, autograd) and compares with the files that
`diffuscope forward` wrote: the output and, when given, the gradient of sum(out·dout) for every parameter and
for x. Each error is max|diffuscope − torch| / max|torch| over a tensor (absolute when the torch tensor is
all zero). Prints the comparisons, worst first, and exits 1 when any exceeds --tol (2 on bad input, 77
when torch or numpy cannot be imported).

    diffuscope forward --weights W --x x.npy --level level.npy --label label.npy --out out.npy \\
        --dout dout.npy --grads g.safetensors --dx dx.npy
    /usr/bin/python3 python/check_forward.py --weights W --x x.npy --level level.npy --label label.npy \\
        --out out.npy [--dout dout.npy --grads g.safetensors --dx dx.npy] [--tol 1e-3]

Needs torch and numpy (Debian: python3-torch, python3-numpy).
"""
import argparse
import os
import sys

SKIP = 77  # exit status when torch or numpy is missing: the caller's test reports a skip, not a failure
try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"check_forward: skipped: {e} (Debian: apt install python3-torch python3-numpy)")
    sys.exit(SKIP)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuscope_ref as ref  # noqa: E402


def load_npy(path, dtype, shape):
    a = np.load(path)
    if a.dtype != np.dtype(dtype):
        sys.exit(f"check_forward: {path} holds {a.dtype}, expected {np.dtype(dtype)}")
    if list(a.shape) != list(shape):
        sys.exit(f"check_forward: {path} has shape {list(a.shape)}, expected {list(shape)}")
    return torch.from_numpy(np.ascontiguousarray(a))


def rel_err(got, want):
    got, want = got.double(), want.double()
    if got.shape != want.shape:
        return float("inf")
    scale = want.abs().max().item() if want.numel() else 0.0
    diff = (got - want).abs().max().item() if want.numel() else 0.0
    return diff / scale if scale > 0 else diff


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("weights", "x", "level", "label", "out"):
        p.add_argument("--" + name, required=True)
    for name in ("dout", "grads", "dx"):
        p.add_argument("--" + name)
    p.add_argument("--tol", type=float, default=1e-3, help="largest relative error accepted (default 1e-3)")
    a = p.parse_args()
    if (a.grads or a.dx) and not a.dout:
        sys.exit("check_forward: --grads and --dx need --dout")

    tensors, meta = ref.load_safetensors(a.weights)
    if any(k.startswith("ema/") for k in tensors):  # a training checkpoint: the EMA weights, as diffuscope loads
        tensors = {k[4:]: v for k, v in tensors.items() if k.startswith("ema/")}
    net = ref.from_config(meta).double()
    net.load_state_dict({k: v.double() for k, v in tensors.items()}, strict=True)

    x = load_npy(a.x, np.float32, np.load(a.x, mmap_mode="r").shape)
    n = x.shape[0]
    if list(x.shape[1:]) != [1, 28, 28]:
        sys.exit(f"check_forward: {a.x} has shape {list(x.shape)}, expected [N, 1, 28, 28]")
    level = load_npy(a.level, np.float32, [n]).double()
    label = load_npy(a.label, np.int32, [n]).long()
    x = x.double().requires_grad_(a.dout is not None)

    out = net(x, level, label)
    results = [("out", rel_err(load_npy(a.out, np.float32, [n, 1, 28, 28]), out.detach()))]
    if a.dout:
        dout = load_npy(a.dout, np.float32, [n, 1, 28, 28]).double()
        (out * dout).sum().backward()
        if a.dx:
            results.append(("dx", rel_err(load_npy(a.dx, np.float32, [n, 1, 28, 28]), x.grad)))
        if a.grads:
            got, _ = ref.load_safetensors(a.grads)
            for name, param in net.named_parameters():
                if name not in got:
                    results.append((f"grad {name} (missing)", float("inf")))
                    continue
                results.append((f"grad {name}", rel_err(got[name], param.grad)))
            for name in sorted(set(got) - {n_ for n_, _ in net.named_parameters()}):
                results.append((f"grad {name} (not a parameter)", float("inf")))

    results.sort(key=lambda r: -r[1])
    bad = [r for r in results if not r[1] <= a.tol]
    print(f"diffuscope forward vs PyTorch (float64), N = {n}, {len(results)} tensors, tolerance {a.tol:g}:")
    for name, e in results[:10]:
        print(f"  {'FAIL' if not e <= a.tol else 'ok  '} {name:40s} {e:.3e}")
    if len(results) > 10:
        print(f"  … {len(results) - 10} more, all ≤ {results[10][1]:.3e}")
    verdict = f"FAILED ({len(bad)} of {len(results)} tensors)" if bad else "passed"
    print(f"worst: {results[0][0]} {results[0][1]:.3e} — {verdict}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
