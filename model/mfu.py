"""Model FLOPs utilisation (MFU): achieved training FLOP/s over the accelerator's dense peak.

    peak = peak_flops(torch.cuda.get_device_name(), matmul_precision(torch.bfloat16))   # H100 SXM: 989.5e12
    Throughput.measure(tokens=16 * 1024 * 20, seconds=0.9, flops_per_token=flops_per_token(cfg), peak=peak)

- `PEAK_TFLOPS`                 dense peak TFLOP/s per accelerator and precision, from the vendors' data sheets
- `device_key(name)`            the table row a `torch.cuda.get_device_name()` string is (None: not in it)
- `peak_flops(name, dtype)`     that row's peak FLOP/s for a precision (None: CPU, unknown, unsupported)
- `matmul_precision(...)`       which precision's peak applies to a run (autocast dtype, TF32 flag)
- `mfu(flops_per_token, tokens_per_s, peak)` and `Throughput` for progress bars, metrics and summaries

MFU counts the model's FLOPs (`model.estimate.flops_per_token`: 6 N + 12 L h s, the PaLM / nanoGPT
definition), not the hardware's: recomputation or padding does not raise it. Peaks are *dense*: the
data sheets' headline tensor numbers for Ampere and later assume 2:4 structured sparsity and are twice
what a dense matmul can reach. Consumer cards (RTX) run FP16/BF16 with FP32 accumulation, which is what
PyTorch uses, at half their FP16-accumulate rate; the table lists the FP32-accumulate rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")

# Dense peak TFLOP/s: fp32 (CUDA cores), tf32 / bf16 / fp16 (tensor cores, FP32 accumulate). None: the
# chip has no such unit (Volta and Turing have no TF32 or BF16 tensor cores; see `peak_flops` for tf32).
# Where a data sheet gives "X | Y*" or only "Y*" (* = with sparsity), the dense figure is X = Y / 2.
PEAK_TFLOPS: dict[str, dict[str, float | None]] = {
    # NVIDIA A100 Tensor Core GPU data sheet (2021, 1758950-r4): the same figures for SXM and PCIe (80/40 GB).
    "A100 SXM": dict(fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0),
    "A100 PCIe": dict(fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0),
    # NVIDIA H100 Tensor Core GPU data sheet (2023): SXM 67 / 989* / 1979* / 1979*, PCIe 51 / 756* / 1513*
    # / 1513*, NVL 60 / 835* / 1671* / 1671* (* with sparsity).
    "H100 SXM": dict(fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5),
    "H100 PCIe": dict(fp32=51.0, tf32=378.0, bf16=756.5, fp16=756.5),
    "H100 NVL": dict(fp32=60.0, tf32=417.5, bf16=835.5, fp16=835.5),
    # NVIDIA H200 Tensor Core GPU data sheet (2024): H200 SXM as H100 SXM (same compute, more and faster
    # memory); H200 NVL 60 / 835* / 1671* / 1671*.
    "H200": dict(fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5),
    "H200 NVL": dict(fp32=60.0, tf32=417.5, bf16=835.5, fp16=835.5),
    # NVIDIA GH200 Grace Hopper Superchip data sheet (2024): the Hopper GPU's 67 / 494 / 990 / 990 dense.
    "GH200": dict(fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5),
    # NVIDIA L4 Tensor Core GPU data sheet (2023): 30.3 / 120* / 242* / 242*.
    "L4": dict(fp32=30.3, tf32=60.0, bf16=121.0, fp16=121.0),
    # NVIDIA L40S data sheet (2023): 91.6 / 183 | 366* / 362.05 | 733* / 362.05 | 733*.
    "L40S": dict(fp32=91.6, tf32=183.0, bf16=362.05, fp16=362.05),
    # NVIDIA L40 data sheet (2022): 90.5 / 90.5 | 181* / 181.05 | 362.1* / 181.05 | 362.1*. Listed so that
    # an L40 is not mistaken for an L40S or an L4.
    "L40": dict(fp32=90.5, tf32=90.5, bf16=181.05, fp16=181.05),
    # NVIDIA A10 Tensor Core GPU data sheet (2021): 31.2 / 62.5 | 125* / 125 | 250* / 125 | 250*.
    "A10": dict(fp32=31.2, tf32=62.5, bf16=125.0, fp16=125.0),
    # NVIDIA V100 Tensor Core GPU data sheet (2020): SXM2 15.7 FP32 / 125 tensor (FP16); PCIe 14 / 112;
    # V100S PCIe 16.4 / 130. Volta has no BF16 or TF32 units.
    "V100 SXM2": dict(fp32=15.7, tf32=None, bf16=None, fp16=125.0),
    "V100 PCIe": dict(fp32=14.0, tf32=None, bf16=None, fp16=112.0),
    "V100S PCIe": dict(fp32=16.4, tf32=None, bf16=None, fp16=130.0),
    # NVIDIA Ampere GA102 GPU Architecture whitepaper (2020), RTX 3090: FP32 35.6; TF32 35.6 | 71*;
    # FP16 and BF16 with FP32 accumulate 71 | 142* (FP16 accumulate 142, which PyTorch does not use).
    "RTX 3090": dict(fp32=35.6, tf32=35.6, bf16=71.0, fp16=71.0),
    # NVIDIA Ada GPU Architecture whitepaper (2023), RTX 4090: FP32 82.6; TF32 82.6 | 165.2*; FP16 and
    # BF16 with FP32 accumulate 165.2 | 330.4*.
    "RTX 4090": dict(fp32=82.6, tf32=82.6, bf16=165.2, fp16=165.2),
    # NVIDIA T4 Tensor Core GPU data sheet (2019): FP32 8.1; mixed precision (FP16/FP32) 65. Turing has
    # no BF16 or TF32 units.
    "T4": dict(fp32=8.1, tf32=None, bf16=None, fp16=65.0),
}

# (row, pattern) tried in order on the upper-cased device name with '-' and '_' read as spaces, so
# "NVIDIA A100-SXM4-80GB" reads "NVIDIA A100 SXM4 80GB". More specific patterns come first; word
# boundaries keep "A10" from matching "A100" or "A10G", and "L4" from matching "L40".
_NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    ("GH200", r"\bGH200\b"),
    ("H200 NVL", r"\bH200\b.*\bNVL\b"),
    ("H200", r"\bH200\b"),
    ("H100 NVL", r"\bH100\b.*\bNVL\b"),
    ("H100 PCIe", r"\bH100\b.*\bPCIE\b"),
    ("H100 SXM", r"\bH100\b"),  # "NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM5 80GB"
    ("A100 PCIe", r"\bA100\b.*\bPCIE\b"),  # "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"
    ("A100 SXM", r"\bA100\b"),  # "NVIDIA A100-SXM4-80GB"
    ("A10", r"\bA10\b"),
    ("L40S", r"\bL40S\b"),
    ("L40", r"\bL40\b"),
    ("L4", r"\bL4\b"),
    ("V100S PCIe", r"\bV100S\b"),
    ("V100 PCIe", r"\bV100\b.*\bPCIE\b"),
    ("V100 SXM2", r"\bV100\b"),  # "Tesla V100-SXM2-16GB"
    # Not the 3090 Ti, the 4090 D or the laptop 4090: other chips, other peaks.
    ("RTX 3090", r"\bRTX 3090\b(?!\s*TI\b)"),
    ("RTX 4090", r"\bRTX 4090\b(?!\s*(D|LAPTOP)\b)"),
    ("T4", r"\bT4\b"),
)

_DTYPE_NAMES = {
    "fp32": "fp32", "float32": "fp32", "float": "fp32",
    "tf32": "tf32",
    "bf16": "bf16", "bfloat16": "bf16",
    "fp16": "fp16", "float16": "fp16", "half": "fp16",
}


def normalize_precision(dtype: str | torch.dtype) -> str:
    """"fp32" | "tf32" | "bf16" | "fp16" for a name ("bfloat16", "half", ...) or a torch dtype."""
    name = str(dtype).removeprefix("torch.").lower()
    if name not in _DTYPE_NAMES:
        raise ValueError(f"unknown precision {dtype!r}; expected one of {', '.join(PRECISIONS)} or a torch float dtype")
    return _DTYPE_NAMES[name]


def device_key(device_name: str | None) -> str | None:
    """The `PEAK_TFLOPS` row of a `torch.cuda.get_device_name()` string, or None if none matches."""
    if not device_name:
        return None
    text = re.sub(r"[-_]", " ", device_name.upper())
    for key, pattern in _NAME_PATTERNS:
        if re.search(pattern, text):
            return key
    return None


def peak_flops(device_name: str | None, dtype: str | torch.dtype) -> float | None:
    """Dense peak FLOP/s of the named accelerator at `dtype` ("fp32", "tf32", "bf16", "fp16" or a torch
    dtype); None on the CPU ("cpu" or None), for an unknown device, or a precision it has no unit for.

    "tf32" on a chip without TF32 (Volta, Turing) is its fp32 peak: PyTorch's TF32 flag has no effect
    there and the matmuls run in plain fp32.
    """
    key = device_key(device_name)
    if key is None:
        return None
    precision = normalize_precision(dtype)
    row = PEAK_TFLOPS[key]
    tflops = row[precision]
    if tflops is None and precision == "tf32":
        tflops = row["fp32"]
    return None if tflops is None else tflops * 1e12


def tf32_matmuls_allowed() -> bool:
    """Whether fp32 CUDA matmuls may run on TF32 tensor cores (`torch.backends.cuda.matmul.allow_tf32`,
    which `torch.set_float32_matmul_precision("high")` also turns on)."""
    return bool(torch.backends.cuda.matmul.allow_tf32)


def matmul_precision(autocast_dtype: str | torch.dtype | None = None, tf32: bool | None = None) -> str:
    """The precision whose peak a run's matmuls can reach: bf16/fp16 autocast -> that dtype; fp32 (no
    autocast, `autocast_dtype` None or fp32) -> "tf32" when TF32 matmuls are allowed (`tf32`; default:
    PyTorch's current flag), else "fp32"."""
    if autocast_dtype is not None:
        precision = normalize_precision(autocast_dtype)
        if precision in ("bf16", "fp16"):
            return precision
    allowed = tf32_matmuls_allowed() if tf32 is None else tf32
    return "tf32" if allowed else "fp32"


def device_peak_flops(device: torch.device | str, precision: str | torch.dtype) -> float | None:
    """`peak_flops` for a torch device: the CUDA device's name looked up, None for any other device."""
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return None
    return peak_flops(torch.cuda.get_device_name(device), precision)


def mfu(flops_per_token: float, tokens_per_s: float, peak: float | None) -> float | None:
    """Fraction of `peak` FLOP/s achieved (0.4 = 40%); None without a peak (CPU, unknown device)."""
    if not peak or peak <= 0:
        return None
    return flops_per_token * tokens_per_s / peak


@dataclass(frozen=True)
class Throughput:
    """Tokens/s, model FLOP/s and MFU of a stretch of training, for a progress bar, metrics or a summary."""

    tokens_per_s: float
    flops_per_s: float
    mfu: float | None  # None when the peak is unknown

    @classmethod
    def measure(cls, tokens: int, seconds: float, flops_per_token: float, peak: float | None) -> Throughput:
        """From `tokens` processed in `seconds` (wall clock, after a CUDA synchronize) by a model of
        `flops_per_token` training FLOPs per token, on an accelerator of `peak` FLOP/s (or None)."""
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        tokens_per_s = tokens / seconds
        return cls(tokens_per_s, flops_per_token * tokens_per_s, mfu(flops_per_token, tokens_per_s, peak))

    def as_dict(self) -> dict[str, float | None]:
        """{"tokens_per_s", "flops_per_s", "mfu"}: plain numbers for a metrics line or JSON."""
        return {"tokens_per_s": self.tokens_per_s, "flops_per_s": self.flops_per_s, "mfu": self.mfu}

    def postfix(self) -> dict[str, str]:
        """Short strings for a tqdm postfix: {"tok/s": "412k", "mfu": "41.3%"} (no "mfu" without a peak)."""
        out = {"tok/s": _short(self.tokens_per_s)}
        if self.mfu is not None:
            out["mfu"] = f"{100 * self.mfu:.1f}%"
        return out

    def __str__(self) -> str:
        text = f"{self.tokens_per_s:,.0f} tok/s, {self.flops_per_s / 1e12:,.2f} TFLOP/s"
        return text + (f", MFU {100 * self.mfu:.1f}%" if self.mfu is not None else "")


def _short(x: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= size:
            return f"{x / size:.3g}{unit}"
    return f"{x:.3g}"
