"""bench_torch.py — the diffuscope UNet (diffuscope_ref.py) timed in PyTorch on the CPU: the baseline that
`diffuscope bench` divides its own figures by.

The same work as `diffuscope bench`, pass for pass:
  forward         batch 1, 16, 64 (inference; median of a few repeats after a warm-up)
  training step   batch 64, what diffusion/train/unet_trainer.cpp records: draw the batch (λ: 90 % the cosine schedule's
                  log-SNR at t ~ U(0,1), 10 % uniform in [−15, 15]; 10 % null labels), xₜ = α x₀ + σ ε,
                  v = α ε − σ x₀, MSE, backward, clip by the global norm 1, AdamW (lr 2e-3), EMA of the weights
  DDIM-50         16 digits, plain and with classifier-free guidance w = 2 (the model sees a doubled batch)
  100 digits      the bundled weights (assets/unet.safetensors), DDIM-20, w = 2, labels 0–9 in turn, in one
                  batch of 100 (as `diffuscope eval`), judged by the bundled classifier (assets/classifier.
                  safetensors, run here in PyTorch): seconds per 100 digits / label accuracy = seconds per 100
                  digits judged correct
  100 digits fast the same with DPM-Solver++(2M), 4 steps, w = 1.5: diffuscope's fastest route to 100 correct
                  digits, timed here too so that its ratio compares kernels with kernels
Sampling is diffuscope's: the linear schedule (β from 1e-4 to 0.02, T = 1000), trailing timesteps, and at each
step the model sees λ = log(ᾱ/(1 − ᾱ)); guidance o = o_null + w (o_label − o_null); from v: x̂₀ = a x − b v,
ε̂ = b x + a v (a = √ᾱ, b = √(1 − ᾱ)); DDIM with η = 0: x' = a' x̂₀ + b' ε̂, and x̂₀ itself at the last step;
DPM-Solver++(2M) as shaders/diffusion/dpmpp2m_step.comp (h = λ'/2 − λ/2, x' = (b'/b) x − a' expm1(−h) D).
Timed synthetic digits stand in for MNIST in the training step: the arithmetic does not depend on the pixels.

    /usr/bin/python3 python/bench_torch.py [--json out.json] [--quick] [--threads N] [--device cpu|cuda]
    /usr/bin/python3 python/bench_torch.py --classify images.npy --json out.json   # the judge alone (tests)

Exit status 77 when torch cannot be imported (Debian: apt install python3-torch), 2 on bad input.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

SKIP = 77  # exit status when torch is missing: callers report a skip, not a failure
try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"bench_torch: skipped: {e} (Debian: apt install python3-torch)")
    sys.exit(SKIP)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuscope_ref as ref  # noqa: E402

ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")

# The full run and the test-sized one: same passes, same JSON keys, smaller sizes.
FULL = dict(forward=(1, 16, 64), reps=5, train_batch=64, train_reps=4, ddim_steps=50, ddim_digits=16,
            digits=100, digit_steps=20, fast_steps=4)
QUICK = dict(forward=(1, 4), reps=2, train_batch=8, train_reps=2, ddim_steps=3, ddim_digits=4,
             digits=10, digit_steps=2, fast_steps=2)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# Where the work runs: the CPU (the baseline `diffuscope bench` divides by), or with --device cuda a CUDA GPU, to
# compare diffuscope's Vulkan kernels with PyTorch's on the same card (cuDNN with its autotuner, fp32: no TF32).
DEV = torch.device("cpu")


def sync():
    """Wait for the device's queued work (CUDA runs asynchronously), so that a wall clock times it."""
    if DEV.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, reps, warmup=1):
    """Median wall seconds of `reps` calls of fn after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def random_unet(seed):
    """A UNet with PyTorch's default initialisation plus N(0, 0.05²) on every tensor, as `diffuscope bench`
    perturbs its own: no zero-initialised path, so every layer does real work."""
    torch.manual_seed(seed)
    net = ref.UNet()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.to(DEV)


def model_inputs(batch, gen):
    """x [B,1,28,28], λ spread over [−8, 8], labels 0–10 in turn (as `diffuscope bench`)."""
    x = torch.randn(batch, 1, 28, 28, generator=gen, device=DEV)
    level = torch.linspace(-8.0, 8.0, batch, device=DEV) if batch > 1 else torch.tensor([-8.0], device=DEV)
    label = torch.arange(batch, device=DEV) % 11
    return x, level, label


# ---- training: one step of diffusion/train/unet_trainer.cpp

class TrainStep:
    """Batch (shaders/train/batch.comp), forward, MSE, backward, global-norm clip, AdamW, EMA."""

    def __init__(self, net, batch, gen, lr=2e-3, max_grad_norm=1.0, ema_decay=0.999, p_uncond=0.1,
                 level_min=-15.0, level_max=15.0):
        self.net, self.batch, self.gen = net, batch, gen
        self.opt = torch.optim.AdamW(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        self.ema = [p.detach().clone() for p in net.parameters()]
        self.max_grad_norm, self.ema_decay, self.p_uncond = max_grad_norm, ema_decay, p_uncond
        self.level_min, self.level_max = level_min, level_max
        # Synthetic digits in [−1, 1] (the data set uploaded once, as the trainer does).
        self.data = torch.rand(1000, 1, 28, 28, generator=gen, device=DEV) * 2 - 1
        self.data_labels = torch.randint(0, 10, (1000,), generator=gen, device=DEV)
        self.step_count = 0

    def draw(self):
        B, g = self.batch, self.gen
        i = torch.randint(0, self.data.shape[0], (B,), generator=g, device=DEV)
        x0, label = self.data[i], self.data_labels[i].clone()
        label[torch.rand(B, generator=g, device=DEV) < self.p_uncond] = ref.NULL_LABEL
        t = torch.rand(B, generator=g, device=DEV)
        cosine = (-2.0 * torch.log(torch.tan(math.pi / 2 * t))).clamp(self.level_min, self.level_max)
        uniform = self.level_min + t * (self.level_max - self.level_min)
        level = torch.where(torch.rand(B, generator=g, device=DEV) < 0.9, cosine, uniform)
        alpha = torch.sigmoid(level).sqrt()[:, None, None, None]   # α² = sigmoid(λ)
        sigma = torch.sigmoid(-level).sqrt()[:, None, None, None]  # σ² = sigmoid(−λ)
        eps = torch.randn(x0.shape, generator=g, device=DEV)
        return alpha * x0 + sigma * eps, level, label, alpha * eps - sigma * x0

    def __call__(self):
        x_t, level, label, v = self.draw()
        loss = F.mse_loss(self.net(x_t, level, label), v)  # (1/count) Σ (v̂ − v)²
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.max_grad_norm)  # scale min(1, 1/(‖g‖+1e-6))
        if not torch.isfinite(norm):  # the trainer skips a non-finite step on the GPU
            return
        self.opt.step()
        self.step_count += 1
        d = min(self.ema_decay, (1.0 + self.step_count) / (10.0 + self.step_count))  # EMA warm-up, as the trainer
        with torch.no_grad():
            for e, p in zip(self.ema, self.net.parameters()):
                e.mul_(d).add_(p.detach(), alpha=1 - d)


# ---- sampling: diffuscope's linear schedule, trailing timesteps, DDIM (η = 0), classifier-free guidance

def linear_levels(T=1000, beta_start=1e-4, beta_end=0.02):
    """(√ᾱ, √(1 − ᾱ), λ) per timestep in float64, as diffusion/schedule/schedule.cpp computes them:
    β_t = β₀ + (β₁ − β₀) t/(T − 1) (scaled by 1000/T), log ᾱ_t = Σ_{s≤t} log(1 − β_s)."""
    t = torch.arange(T, dtype=torch.float64)
    beta = (1000.0 / T) * (beta_start + (beta_end - beta_start) * t / (T - 1))
    log_ab = torch.cumsum(torch.log1p(-beta), 0)
    om = -torch.expm1(log_ab)
    return torch.exp(0.5 * log_ab), om.sqrt(), log_ab - torch.log(om)


def trailing(T, S):
    """diffusion/schedule/schedule.cpp respace(…, trailing): t_i = round(T − i T/S) − 1."""
    return [int(math.floor(T - i * T / S + 0.5)) - 1 for i in range(S)]


@torch.inference_mode()
def ddim_sample(net, labels, steps, guidance, gen, prediction="v", sampler="ddim"):
    """len(labels) digits by DDIM with η = 0 (or DPM-Solver++(2M), sampler="dpmpp2m"); returns x₀ in [−1, 1]
    (unclipped, as diffuscope)."""
    a_all, b_all, lam_all = linear_levels()
    ts = trailing(1000, steps)
    n = len(labels)
    guided = guidance != 1.0 and bool((labels != ref.NULL_LABEL).any())
    model_labels = torch.cat([labels, torch.full_like(labels, ref.NULL_LABEL)]) if guided else labels
    x = torch.randn(n, 1, 28, 28, generator=gen, device=DEV)
    x0_prev = None  # DPM-Solver++(2M): the previous step's x̂₀
    for i, t in enumerate(ts):
        a, b = float(a_all[t]), float(b_all[t])
        lam = torch.full((len(model_labels),), float(lam_all[t]), dtype=torch.float32, device=DEV)
        o = net(torch.cat([x, x]) if guided else x, lam, model_labels)
        if guided:
            o = o[n:] + guidance * (o[:n] - o[n:])
        if prediction == "v":
            x0, eps = a * x - b * o, b * x + a * o
        else:
            x0, eps = (x - b * o) / a, o
        if i + 1 == len(ts):
            x = x0  # the clean level: ᾱ' = 1
        elif sampler == "dpmpp2m":
            t2 = ts[i + 1]
            h = 0.5 * float(lam_all[t2] - lam_all[t])
            d = x0
            if i > 0:
                r = 0.5 * float(lam_all[t] - lam_all[ts[i - 1]]) / h
                d = (1 + 0.5 / r) * x0 - (0.5 / r) * x0_prev
            x = float(b_all[t2]) / b * x - float(a_all[t2]) * math.expm1(-h) * d
            x0_prev = x0
        else:
            t2 = ts[i + 1]
            x = float(a_all[t2]) * x0 + float(b_all[t2]) * eps
    return x


class Classifier(torch.nn.Module):
    """diffusion/model/classifier.hpp in PyTorch: x ∈ [0, 1] → logits [N, 10]."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.fc1 = torch.nn.Linear(64 * 7 * 7, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        h = F.silu(self.conv3(F.silu(self.conv2(F.silu(self.conv1(x))))))
        return self.fc2(F.silu(self.fc1(h.flatten(1))))


def load_unet(path):
    tensors, meta = ref.load_safetensors(path)
    if any(k.startswith("ema/") for k in tensors):  # a training checkpoint: its EMA weights, as diffuscope
        tensors = {k[4:]: v for k, v in tensors.items() if k.startswith("ema/")}
    net = ref.from_config(meta)
    net.load_state_dict(tensors, strict=True)
    return net.to(DEV).eval(), meta.get("prediction", "eps")


def load_classifier(path):
    tensors, meta = ref.load_safetensors(path)
    if meta.get("format") != "diffuscope-classifier":
        raise ValueError(f"{path}: not a diffuscope classifier (metadata format = {meta.get('format')!r})")
    net = Classifier()
    net.load_state_dict(tensors, strict=True)
    return net.to(DEV).eval()


def bench_digits(unet_path, classifier_path, count, steps, guidance=2.0, seed=0, sampler="ddim"):
    net, prediction = load_unet(unet_path)
    judge = load_classifier(classifier_path)
    labels = torch.arange(count, device=DEV) % 10
    gen = torch.Generator(device=DEV).manual_seed(seed)
    with torch.inference_mode():  # warm-up: one model call at the sampling batch (oneDNN picks its kernels)
        net(torch.zeros(2 * count, 1, 28, 28, device=DEV), torch.zeros(2 * count, device=DEV), torch.cat([labels, labels]))
    sync()
    t0 = time.perf_counter()
    x = ddim_sample(net, labels, steps, guidance, gen, prediction, sampler)
    sync()
    seconds = time.perf_counter() - t0
    with torch.inference_mode():
        predicted = judge(((x + 1) * 0.5).clamp(0, 1)).argmax(1)
    accuracy = (predicted == labels).float().mean().item()
    per_100 = 100 * seconds / count
    return {"weights": unet_path, "classifier": classifier_path, "prediction": prediction, "sampler": sampler,
            "steps": steps, "guidance": guidance, "count": count, "seed": seed, "seconds": seconds,
            "seconds_per_100": per_100, "label_accuracy": accuracy,
            "seconds_per_100_correct": per_100 / accuracy if accuracy > 0 else None}


def classify_file(npy_path, classifier_path):
    """The classifier's probabilities and labels for float32 images [N, 1, 28, 28] (or [N, 784]) in [0, 1]:
    what tests/test_bench_torch.cpp compares with diffuscope's own classify()."""
    import numpy as np
    images = np.load(npy_path)
    if images.dtype != np.float32 or images.size % 784:
        raise ValueError(f"{npy_path}: {images.dtype} {list(images.shape)}, expected float32 [N, 1, 28, 28]")
    with torch.inference_mode():
        probs = torch.softmax(load_classifier(classifier_path)(torch.from_numpy(images).reshape(-1, 1, 28, 28).to(DEV)), 1).cpu()
    return {"classifier": classifier_path, "probs": probs.tolist(), "predicted": probs.argmax(1).tolist()}


def run(cfg, threads, unet_path, classifier_path):
    torch.set_num_threads(threads)
    gen = torch.Generator(device=DEV).manual_seed(5)
    where = f"GPU: {torch.cuda.get_device_name(DEV)} (CUDA {torch.version.cuda})" if DEV.type == "cuda" else f"CPU: {cpu_name()}"
    out = {"device": where, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "cpu_count": os.cpu_count(), "forward": [], "sampling": []}
    net = random_unet(1).eval()
    with torch.inference_mode():
        for b in cfg["forward"]:
            x, level, label = model_inputs(b, gen)
            s = timed(lambda: net(x, level, label), cfg["reps"], warmup=2)
            out["forward"].append({"batch": b, "ms": 1000 * s, "images_per_s": b / s})

    train_net = random_unet(2).train()
    step = TrainStep(train_net, cfg["train_batch"], gen)
    s = timed(step, cfg["train_reps"], warmup=2)
    out["train_step"] = {"batch": cfg["train_batch"], "ms": 1000 * s, "images_per_s": cfg["train_batch"] / s,
                         "includes": "batch draw, forward, MSE, backward, clip, AdamW, EMA"}

    for guidance in (1.0, 2.0):
        labels = torch.arange(cfg["ddim_digits"], device=DEV) % 10
        ddim_sample(net, labels, 2, guidance, gen)  # warm-up
        sync()
        t0 = time.perf_counter()
        ddim_sample(net, labels, cfg["ddim_steps"], guidance, gen)
        sync()
        s = time.perf_counter() - t0
        out["sampling"].append({"sampler": "ddim", "steps": cfg["ddim_steps"], "digits": cfg["ddim_digits"],
                                "guidance": guidance, "guided": guidance != 1.0, "seconds": s,
                                "ms_per_step": 1000 * s / cfg["ddim_steps"]})

    missing = [p for p in (unet_path, classifier_path) if not os.path.isfile(p)]
    if missing:
        out["digits"] = out["digits_fast"] = {"skipped": f"{missing[0]} not found"}
    else:
        out["digits"] = bench_digits(unet_path, classifier_path, cfg["digits"], cfg["digit_steps"])
        out["digits_fast"] = bench_digits(unet_path, classifier_path, cfg["digits"], cfg["fast_steps"], guidance=1.5,
                                          sampler="dpmpp2m")
    return out


def print_table(r):
    print(f"PyTorch {r['torch']} on the {r['device']}, {r['threads']} thread(s) of {r['cpu_count']} CPUs")
    for f in r["forward"]:
        print(f"  {'forward, batch ' + str(f['batch']):44s} {f['ms']:10.1f} ms")
    t = r["train_step"]
    print(f"  {'training step, batch ' + str(t['batch']):44s} {t['ms']:10.1f} ms ({t['images_per_s']:.0f} img/s)")
    for s in r["sampling"]:
        what = f"DDIM-{s['steps']} sample of {s['digits']} digits" + (", guidance 2" if s["guided"] else "")
        print(f"  {what:44s} {s['seconds']:10.2f} s ({s['ms_per_step']:.0f} ms per step)")
    for key in ("digits", "digits_fast"):
        d = r[key]
        if "skipped" in d:
            print(f"  digits with the bundled weights: skipped: {d['skipped']}")
            break
        name = {"ddim": "DDIM", "dpmpp2m": "DPM++2M"}.get(d["sampler"], d["sampler"])
        what = f"{d['count']} digits, {name}-{d['steps']}, w = {d['guidance']:g}"
        print(f"  {what:44s} {d['seconds']:10.2f} s ({d['seconds_per_100']:.2f} s per 100, label accuracy "
              f"{100 * d['label_accuracy']:.1f} %)")
        if d["seconds_per_100_correct"] is not None:
            print(f"  {'  time to 100 digits judged correct':44s} {d['seconds_per_100_correct']:10.2f} s")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", help="also write the figures as JSON to this file")
    p.add_argument("--quick", action="store_true", help="test-sized run (seconds): smaller batches and fewer steps")
    p.add_argument("--threads", type=int, help="torch threads (default: every CPU; 1 with --quick, which a "
                   "test runs beside others: OpenMP threads that share cores wait on each other)")
    p.add_argument("--weights", default=os.path.join(ASSETS, "unet.safetensors"), help="UNet for the digits")
    p.add_argument("--classifier", default=os.path.join(ASSETS, "classifier.safetensors"), help="their judge")
    p.add_argument("--classify", metavar="NPY", help="only classify these images (float32 [N,1,28,28] in [0,1]) "
                   "and write probabilities and labels to --json")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where PyTorch runs (default: cpu, the "
                   "baseline of `diffuscope bench`; cuda: a CUDA GPU, fp32 without TF32, cuDNN autotuned)")
    a = p.parse_args()
    global DEV
    if a.device == "cuda":
        if not torch.cuda.is_available():
            print("bench_torch: skipped: --device cuda, but torch sees no CUDA GPU")
            return SKIP
        DEV = torch.device("cuda")
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    if a.threads is None:
        a.threads = 1 if a.quick else (os.cpu_count() or 1)
    if a.threads < 1:
        p.error(f"--threads {a.threads}: must be at least 1")
    if a.json:  # fail before minutes of work, not after
        try:
            open(a.json, "a").close()
        except OSError as e:
            p.error(f"--json {a.json}: cannot open for writing ({e.strerror})")
    if a.classify:
        if not a.json:
            p.error("--classify needs --json FILE for its result")
        try:
            r = classify_file(a.classify, a.classifier)
        except (OSError, ValueError, RuntimeError) as e:
            print(f"bench_torch: {e}", file=sys.stderr)
            return 2
        print(f"bench_torch: {len(r['predicted'])} images classified by {a.classifier}")
    else:
        cfg = QUICK if a.quick else FULL
        r = run(cfg, a.threads, a.weights, a.classifier)
        r["quick"] = a.quick
        print_table(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
