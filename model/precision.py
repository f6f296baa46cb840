"""Numeric precision of a training run: autocast dtype, TF32 matmuls, and loss scaling for float16.

- bfloat16 autocast where the device supports it (Ampere and newer GPUs): fp32's exponent range, so no
  loss scaling; the master weights, optimizer state and the loss's softmax stay fp32.
- float16 autocast where bf16 is not supported (V100, T4, ...: "auto" picks it there instead of silently
  training in fp32): a narrow exponent range, so the loss is multiplied by a dynamic scale before backward
  (`torch.amp.GradScaler`) and gradients unscaled before clipping; a step whose gradients overflow is
  skipped and the scale halved (not a failure of the run).
- float32, with TF32 tensor-core matmuls on Ampere+ GPUs (`--no-tf32` to keep full fp32 matmuls):
  TF32 keeps fp32's range with a 10-bit mantissa, ~8x the fp32 matmul rate on an A100.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class Precision:
    """What `--dtype auto|float32|bfloat16|float16` and `--tf32` resolve to on one device."""

    dtype: str                  # "float32", "bfloat16" or "float16": the autocast dtype (float32: none)
    device_type: str
    tf32: bool = False          # TF32 matmuls enabled (CUDA, compute capability >= 8)

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(self.dtype)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The forward pass's context: autocast to the 16-bit dtype, or nothing for float32."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.autocast_dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A dynamic loss scaler, enabled only for float16 (a disabled one passes everything through)."""
        return torch.amp.GradScaler(self.device_type, enabled=self.dtype == "float16")

    def describe(self) -> str:
        if self.dtype == "float32":
            return "fp32" + (" (TF32 matmuls)" if self.tf32 else "")
        return {"bfloat16": "bf16 autocast", "float16": "fp16 autocast + loss scaling"}[self.dtype]

    @property
    def peak_dtype(self) -> str:
        """The dtype whose peak FLOP/s MFU is measured against."""
        return "tf32" if self.dtype == "float32" and self.tf32 else self.dtype


def tf32_capable(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.get_device_capability(device)[0] >= 8


def choose_precision(device: torch.device, dtype: str = "auto", tf32: bool = True) -> Precision:
    """Resolve `--dtype` for `device`; enables TF32 matmuls process-wide when chosen (a global switch in
    PyTorch). "auto": bf16 on CUDA where supported, else fp16 on CUDA, fp32 elsewhere."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if dtype == "auto":
        if device.type == "cuda":
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        else:
            dtype = "float32"
    use_tf32 = tf32 and tf32_capable(device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = use_tf32
        torch.backends.cudnn.allow_tf32 = use_tf32
    return Precision(dtype, device.type, use_tf32)
