"""diffuscope_ref.py — the diffuscope UNet in PyTorch, tensor for tensor (docs/model.md is the contract).

Loads and saves the same safetensors files as `diffuscope train` (names, shapes, F32, little-endian), so a model
trained at scale in PyTorch can be watched in diffuscope, and diffuscope's hand-derived gradients can be checked
against autograd. Needs only torch (Debian: python3-torch) and the standard library.

    /usr/bin/python3 python/diffuscope_ref.py            # the parameter list with shapes (default config)
    /usr/bin/python3 python/check_forward.py --help      # compare with `diffuscope forward` (outputs, gradients)
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

NULL_LABEL = 10       # the label row used for unconditional / classifier-free guidance
LEVEL_MIN, LEVEL_MAX = -20.0, 20.0   # log-SNR is clamped to this range before the embedding


def level_embedding(level, dim):
    """Sinusoidal embedding of the noise level λ = log-SNR = log(ᾱ/(1−ᾱ)), exactly as the GPU computes it
    (shaders/nn/noise_level.comp, shaders/nn/sinusoidal_embed.comp):
    u = (clamp(λ, −20, 20) + 20)/40 ∈ [0, 1] (NaN → −20); f_k = 1000^(k/(half−1)), k = 0..half−1, half = dim/2;
    e = [sin(u·f_0), …, sin(u·f_{half−1}), cos(u·f_0), …, cos(u·f_{half−1})]."""
    half = dim // 2
    lam = torch.nan_to_num(level, nan=LEVEL_MIN).clamp(LEVEL_MIN, LEVEL_MAX)
    u = (lam - LEVEL_MIN) / (LEVEL_MAX - LEVEL_MIN)
    k = torch.arange(half, dtype=level.dtype, device=level.device)
    f = torch.exp2(math.log2(1000.0) * k / (half - 1))
    a = u[:, None] * f[None, :]
    return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


class ResBlock(nn.Module):
    """h = conv1(SiLU(GN1(x))) + cond(c_act)[:, :, None, None]; h = conv2(SiLU(GN2(h))); out = h + skip(x)."""

    def __init__(self, cin, cout, cond_dim, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.cond = nn.Linear(cond_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, c_act):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.cond(c_act)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class UNet(nn.Module):
    """28×28×1 → 28×28×1. Widths c0 = C, c1 = 2C, c2 = 4C at 28², 14², 7² (default C = 16)."""

    def __init__(self, base=16, emb_dim=64, cond_dim=128, groups=8):
        super().__init__()
        c0, c1, c2 = base, 2 * base, 4 * base
        self.emb_dim = emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.label_emb = nn.Embedding(11, cond_dim)
        self.conv_in = nn.Conv2d(1, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, cond_dim, groups)
        self.downsample0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.down1 = ResBlock(c0, c1, cond_dim, groups)
        self.downsample1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.mid0 = ResBlock(c1, c2, cond_dim, groups)
        self.mid1 = ResBlock(c2, c2, cond_dim, groups)
        self.up1 = ResBlock(c2 + c1, c1, cond_dim, groups)
        self.up0 = ResBlock(c1 + c0, c0, cond_dim, groups)
        self.norm_out = nn.GroupNorm(groups, c0, eps=1e-5)
        self.conv_out = nn.Conv2d(c0, 1, 3, padding=1)

    def forward(self, x, level, label):
        c = self.time_mlp(level_embedding(level, self.emb_dim)) + self.label_emb(label)
        c_act = F.silu(c)
        h = self.conv_in(x)
        s0 = self.down0(h, c_act)                                     # [N, c0, 28, 28]
        s1 = self.down1(self.downsample0(s0), c_act)                  # [N, c1, 14, 14]
        m = self.mid1(self.mid0(self.downsample1(s1), c_act), c_act)  # [N, c2, 7, 7]
        u = self.up1(torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), s1], 1), c_act)
        u = self.up0(torch.cat([F.interpolate(u, scale_factor=2, mode="nearest"), s0], 1), c_act)
        return self.conv_out(F.silu(self.norm_out(u)))


# ---- safetensors (F32 write; F32/F16/BF16 read), with no dependency beyond torch ----
_DT = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        dtype, size = _DT[t["dtype"]]
        b, e = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=dtype).reshape(t["shape"]).float()
    return out, meta


def save_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().float().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def from_config(meta):
    return UNet(base=int(meta.get("base", 16)), emb_dim=int(meta.get("emb_dim", 64)),
                cond_dim=int(meta.get("cond_dim", 128)), groups=int(meta.get("groups", 8)))


if __name__ == "__main__":
    net = UNet()
    n = sum(p.numel() for p in net.parameters())
    print(f"UNet(base=16): {n} parameters")
    for k, v in net.state_dict().items():
        print(f"  {k:32s} {list(v.shape)}")
    sys.exit(0)
