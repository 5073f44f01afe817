#!/usr/bin/env python3
"""Time the keypoint network's training step and inference in PyTorch.

This is the PyTorch side of fkd-cli's `speed` benchmark
(`cargo bench -p fkd-cli --bench speed`), which runs it as a child process and
compares its numbers with burn's. The network, the loss, the update and the
synthetic batch are the ones of the Rust side:

- conv layers (valid padding, stride 1), each followed by max pooling and ReLU,
  in fkd-model's order (which gives the values and gradients of ReLU first);
  dense hidden layers with ReLU; a linear output of 30 x 98 logits;
  a log-softmax over the 98 bins of each coordinate (MultiSoftMax);
- the masked KL divergence of fkd_model::kl_divergence_loss with the
  ElementMean normalization (the sum over present coordinates and positive
  target bins, divided by batch * 30 * 98);
- plain SGD, then the max-norm constraint on every conv and linear weight;
- Gaussian target rows (stdv 0.8) around coordinates
  ((face * 31 + coordinate * 7) % 90) + 3.5, missing where
  (face + coordinate) % 4 == 3.

With --backward burn, the conv layers and ReLUs compute their gradients with
the ATen calls that burn 0.22's default backward makes through burn-tch,
instead of PyTorch's fused kernels, so that the difference between the two
runs is the cost of those defaults. Prints one JSON object on stdout. Needs
only torch.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

NUM_COORDS = 30
NUM_BINS = 98
IMAGE_SIDE = 96
TARGET_STDV = 0.8


def parse_sizes(text):
    """Parse a comma-separated list of sizes such as "64,96,96". An empty string means none."""
    return [int(value) for value in text.split(",") if value]


class BurnConv2dFunction(torch.autograd.Function):
    """A stride-1, unpadded conv2d whose backward makes burn 0.22's default calls
    (burn-backend's conv2d_x_backward, conv2d_weight_backward, conv2d_bias_backward)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return F.conv2d(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv_transpose2d(grad, weight)
        if ctx.needs_input_grad[1]:
            # A conv of the input with the output gradient as the kernel, batch and
            # channels swapped.
            grad_weight = F.conv2d(x.transpose(0, 1), grad.transpose(0, 1)).transpose(0, 1)
        if ctx.needs_input_grad[2]:
            grad_bias = grad.transpose(0, 1).reshape(grad.shape[1], -1).sum(1)
        return grad_x, grad_weight, grad_bias


class BurnConv2d(nn.Conv2d):
    def forward(self, x):
        return BurnConv2dFunction.apply(x, self.weight, self.bias)


class BurnReluFunction(torch.autograd.Function):
    """ReLU whose backward is burn's default: a mask of output <= 0, then mask_fill."""

    @staticmethod
    def forward(ctx, x):
        output = torch.relu(x)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad.masked_fill(output <= 0, 0.0)


class BurnRelu(nn.Module):
    def forward(self, x):
        return BurnReluFunction.apply(x)


def build_network(channels, kernels, pools, hidden, backward="native"):
    """Build the keypoint network of fkd_model::KeypointNetConfig. With backward="burn",
    its conv layers and ReLUs use burn's default backward."""
    conv = BurnConv2d if backward == "burn" else nn.Conv2d
    relu = BurnRelu if backward == "burn" else nn.ReLU
    layers = []
    in_channels = 1
    side = IMAGE_SIDE
    for out_channels, kernel, pool in zip(channels, kernels, pools, strict=True):
        layers.append(conv(in_channels, out_channels, kernel))
        side = side - kernel + 1
        if pool > 0:
            layers.append(nn.MaxPool2d(pool, pool))
            side = (side - pool) // pool + 1
        layers.append(relu())
        in_channels = out_channels

    layers.append(nn.Flatten())
    features = in_channels * side * side
    for width in hidden:
        layers += [nn.Linear(features, width), relu()]
        features = width
    layers.append(nn.Linear(features, NUM_COORDS * NUM_BINS))
    return nn.Sequential(*layers)


def log_probs_of(network, images):
    """Return the [batch, 30, 98] log-probabilities of the MultiSoftMax, for the loss."""
    logits = network(images).view(-1, NUM_COORDS, NUM_BINS)
    return torch.log_softmax(logits, dim=2)


def probabilities_of(network, images):
    """Return the [batch, 30, 98] probabilities of the MultiSoftMax, for inference."""
    logits = network(images).view(-1, NUM_COORDS, NUM_BINS)
    return torch.softmax(logits, dim=2)


def kl_divergence_loss(log_probs, targets, mask):
    """Return fkd_model::kl_divergence_loss with KlNormalization::ElementMean."""
    excluded = (targets <= 0) | ~mask.unsqueeze(2)
    log_targets = targets.masked_fill(excluded, 1.0).log()
    kept_targets = targets.masked_fill(excluded, 0.0)
    kept_log_probs = log_probs.masked_fill(excluded, 0.0)
    divergence = (kept_targets * (log_targets - kept_log_probs)).sum()
    return divergence / targets.numel()


@torch.no_grad()
def apply_max_norm(network, max_norm):
    """Rescale each output unit's incoming weights to an L2 norm of at most max_norm."""
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.weight.renorm_(2, 0, max_norm)


def synthetic_batch(batch, device):
    """Build the images, Gaussian targets and mask of the Rust side's synthetic batch."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(batch, 1, IMAGE_SIDE, IMAGE_SIDE, generator=generator)

    faces = torch.arange(batch).view(-1, 1)
    coordinates = torch.arange(NUM_COORDS).view(1, -1)
    centers = ((faces * 31 + coordinates * 7) % 90).float() + 3.5
    mask = (faces + coordinates) % 4 != 3

    bins = torch.arange(NUM_BINS, dtype=torch.float64).view(1, 1, -1)
    distance = bins - centers.double().unsqueeze(2)
    scale = 1.0 / (math.sqrt(2.0 * math.pi) * TARGET_STDV)
    targets = scale * torch.exp(-distance * distance / (2.0 * TARGET_STDV**2))
    targets = targets.float() * mask.unsqueeze(2)

    return images.to(device), targets.to(device), mask.to(device)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_training_steps(args, device):
    """Return the wall times in ms of the timed training steps and of their forward
    passes with the loss."""
    torch.manual_seed(0)
    network = build_network(args.channels, args.kernels, args.pools, args.hidden, args.backward)
    network = network.to(device)
    optimizer = torch.optim.SGD(network.parameters(), lr=args.learning_rate)
    images, targets, mask = synthetic_batch(args.batch, device)

    times = []
    forward_times = []
    for step in range(args.warmup + args.steps):
        synchronize(device)
        started = time.perf_counter()

        log_probs = log_probs_of(network, images)
        loss = kl_divergence_loss(log_probs, targets, mask)
        synchronize(device)
        forward_elapsed = (time.perf_counter() - started) * 1e3

        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        apply_max_norm(network, args.max_norm)

        loss_value = loss.item()
        elapsed = (time.perf_counter() - started) * 1e3
        if not math.isfinite(loss_value):
            raise SystemExit(f"training step {step}: loss is {loss_value}, expected a finite value")
        if step >= args.warmup:
            times.append(elapsed)
            forward_times.append(forward_elapsed)
    return times, forward_times


def time_inference(args, device, batch, repeats):
    """Return the wall time in ms of each timed forward pass at `batch` faces."""
    torch.manual_seed(0)
    network = build_network(args.channels, args.kernels, args.pools, args.hidden).to(device)
    network.eval()
    images = torch.randn(batch, 1, IMAGE_SIDE, IMAGE_SIDE).to(device)

    times = []
    with torch.inference_mode():
        for repeat in range(args.warmup + repeats):
            synchronize(device)
            started = time.perf_counter()
            probabilities = probabilities_of(network, images).cpu()
            elapsed = (time.perf_counter() - started) * 1e3
            if probabilities.shape != (batch, NUM_COORDS, NUM_BINS):
                raise SystemExit(
                    f"inference output has shape {tuple(probabilities.shape)}, "
                    f"expected ({batch}, {NUM_COORDS}, {NUM_BINS})"
                )
            if repeat >= args.warmup:
                times.append(elapsed)
    return times


def memory_kib(field):
    """Return a field of /proc/self/status (VmHWM, VmRSS) in KiB, or None without it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda:N")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads, 0 for torch's default")
    parser.add_argument("--batch", type=int, default=64, help="faces per training batch")
    parser.add_argument("--channels", type=parse_sizes, default=[64, 96, 96], help="conv output channels, comma-separated")
    parser.add_argument("--kernels", type=parse_sizes, default=[5, 5, 5], help="conv kernel sides, comma-separated")
    parser.add_argument("--pools", type=parse_sizes, default=[2, 2, 2], help="max-pool size and stride per conv layer, 0 for none")
    parser.add_argument("--hidden", type=parse_sizes, default=[1000], help="dense hidden layer widths, comma-separated")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="SGD learning rate")
    parser.add_argument("--max-norm", type=float, default=2.0, help="max-norm bound of each unit's incoming weights")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before each measurement")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--inference-repeats", type=int, default=3, help="timed forward passes at the large inference batch")
    parser.add_argument("--single-repeats", type=int, default=20, help="timed forward passes at batch 1")
    parser.add_argument("--inference-batch", type=int, default=256, help="faces per large inference batch")
    parser.add_argument(
        "--backward",
        choices=["native", "burn"],
        default="native",
        help="gradients of conv layers and ReLUs: PyTorch's own, or burn 0.22's default calls",
    )
    parser.add_argument("--result-prefix", default="", help="text printed before the JSON result")
    args = parser.parse_args()
    # Once torch and its libraries are loaded, before any tensor exists.
    startup_kib = memory_kib("VmRSS")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    train_ms, forward_ms = time_training_steps(args, device)
    single_ms = time_inference(args, device, 1, args.single_repeats)
    large_ms = time_inference(args, device, args.inference_batch, args.inference_repeats)

    result = {
        "backend": "pytorch" if args.backward == "native" else "pytorch-burn-backward",
        "version": torch.__version__,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "train_step_ms": train_ms,
        "train_forward_ms": forward_ms,
        "infer_single_ms": single_ms,
        "infer_large_ms": large_ms,
        "startup_resident_kib": startup_kib,
        "peak_resident_kib": memory_kib("VmHWM"),
    }
    print(args.result_prefix + json.dumps(result))


if __name__ == "__main__":
    main()
