"""model.mfu: peak FLOP/s looked up from device-name strings as torch reports them, and MFU arithmetic."""

from __future__ import annotations

import pytest
import torch

from model.config import preset
from model.estimate import flops_per_token
from model.mfu import (
    PEAK_TFLOPS,
    PRECISIONS,
    Throughput,
    device_key,
    device_peak_flops,
    matmul_precision,
    mfu,
    normalize_precision,
    peak_flops,
)

# Strings as `torch.cuda.get_device_name()` returns them on these cards.
DEVICE_NAMES = {
    "NVIDIA H100 80GB HBM3": "H100 SXM",
    "NVIDIA H100 PCIe": "H100 PCIe",
    "NVIDIA H100 NVL": "H100 NVL",
    "NVIDIA H200": "H200",
    "NVIDIA H200 NVL": "H200 NVL",
    "NVIDIA GH200 480GB": "GH200",
    "NVIDIA A100-SXM4-80GB": "A100 SXM",
    "NVIDIA A100-SXM4-40GB": "A100 SXM",
    "NVIDIA A100-PCIE-40GB": "A100 PCIe",
    "NVIDIA A100 80GB PCIe": "A100 PCIe",
    "NVIDIA A10": "A10",
    "NVIDIA L4": "L4",
    "NVIDIA L40": "L40",
    "NVIDIA L40S": "L40S",
    "Tesla V100-SXM2-16GB": "V100 SXM2",
    "Tesla V100-SXM2-32GB": "V100 SXM2",
    "Tesla V100-PCIE-32GB": "V100 PCIe",
    "Tesla V100S-PCIE-32GB": "V100S PCIe",
    "NVIDIA GeForce RTX 3090": "RTX 3090",
    "NVIDIA GeForce RTX 4090": "RTX 4090",
    "Tesla T4": "T4",
    "nvidia h100 80gb hbm3": "H100 SXM",  # case does not matter
}


@pytest.mark.parametrize("name,key", DEVICE_NAMES.items())
def test_device_names_map_to_their_row(name, key):
    assert device_key(name) == key


@pytest.mark.parametrize("name", [
    None, "", "cpu", "NVIDIA A10G", "NVIDIA GeForce RTX 3090 Ti", "NVIDIA GeForce RTX 4090 D",
    "NVIDIA GeForce RTX 4090 Laptop GPU", "AMD Instinct MI300X", "Apple M2", "NVIDIA GeForce GTX 1080",
])
def test_cpu_and_unknown_devices_have_no_peak(name):
    """Near misses (other chips whose names contain a known one) are unknown, not a wrong peak."""
    assert device_key(name) is None
    assert peak_flops(name, "bf16") is None


def test_peaks_are_the_dense_datasheet_figures():
    assert peak_flops("NVIDIA H100 80GB HBM3", "bf16") == pytest.approx(989.5e12)  # 1979 sparse / 2
    assert peak_flops("NVIDIA H100 80GB HBM3", torch.bfloat16) == peak_flops("NVIDIA H100 80GB HBM3", "bf16")
    assert peak_flops("NVIDIA A100-SXM4-80GB", "bfloat16") == pytest.approx(312e12)
    assert peak_flops("NVIDIA A100-SXM4-80GB", "tf32") == pytest.approx(156e12)
    assert peak_flops("NVIDIA A100-SXM4-80GB", torch.float32) == pytest.approx(19.5e12)
    assert peak_flops("NVIDIA L4", "fp16") == pytest.approx(121e12)
    assert peak_flops("NVIDIA GeForce RTX 4090", "half") == pytest.approx(165.2e12)  # FP32 accumulate


def test_volta_and_turing_have_no_bf16_and_tf32_falls_back_to_fp32():
    for name in ("Tesla V100-SXM2-16GB", "Tesla T4"):
        assert peak_flops(name, "bf16") is None
        assert peak_flops(name, "tf32") == peak_flops(name, "fp32")
        assert peak_flops(name, "fp16") > peak_flops(name, "fp32")


def test_table_is_complete_and_ordered():
    """Every row has all four precisions, and tensor-core peaks are never below the fp32 peak."""
    for key, row in PEAK_TFLOPS.items():
        assert set(row) == set(PRECISIONS), key
        for precision in ("tf32", "bf16", "fp16"):
            assert row[precision] is None or row[precision] >= row["fp32"], (key, precision)
        assert row["bf16"] is None or row["bf16"] >= row["tf32"], key


def test_precision_names():
    assert normalize_precision("bfloat16") == "bf16"
    assert normalize_precision(torch.float16) == "fp16"
    assert normalize_precision("float32") == "fp32"
    with pytest.raises(ValueError, match="unknown precision"):
        normalize_precision("int8")


def test_which_peak_applies():
    assert matmul_precision(torch.bfloat16) == "bf16"
    assert matmul_precision("float16", tf32=True) == "fp16"  # autocast wins over the TF32 flag
    assert matmul_precision(None, tf32=True) == "tf32"
    assert matmul_precision(torch.float32, tf32=True) == "tf32"
    assert matmul_precision(None, tf32=False) == "fp32"


def test_the_default_reads_torchs_tf32_flag():
    before = torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = True
        assert matmul_precision() == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = False
        assert matmul_precision() == "fp32"
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def test_the_cpu_device_has_no_peak():
    assert device_peak_flops("cpu", "bf16") is None
    assert device_peak_flops(torch.device("cpu"), torch.float32) is None


def test_mfu_arithmetic():
    assert mfu(1e9, 100_000, 200e12) == pytest.approx(0.5)
    assert mfu(1e9, 100_000, None) is None
    assert mfu(1e9, 100_000, 0.0) is None


def test_gpt2_on_an_h100_at_nanogpt_speed():
    """GPT-2 124M at 1024 tokens: 6 N + 12 L h s = 6 x 124.5M + 12 x 12 x 768 x 1024 ~ 0.86 GFLOP/token;
    400k tokens/s is then ~ 35% of an H100's 989.5 TFLOP/s."""
    cfg = preset("gpt2")
    fpt = flops_per_token(cfg)
    assert fpt == 6 * cfg.num_params() + 12 * 12 * 768 * 1024
    t = Throughput.measure(tokens=400_000 * 3, seconds=3.0, flops_per_token=fpt,
                           peak=peak_flops("NVIDIA H100 80GB HBM3", "bf16"))
    assert t.tokens_per_s == pytest.approx(400_000)
    assert t.flops_per_s == pytest.approx(fpt * 400_000)
    assert t.mfu == pytest.approx(fpt * 400_000 / 989.5e12)
    assert 0.34 < t.mfu < 0.36


def test_throughput_outputs():
    t = Throughput.measure(tokens=2_000_000, seconds=4.0, flops_per_token=1e9, peak=1e15)
    assert t.as_dict() == {"tokens_per_s": 500_000.0, "flops_per_s": 5e14, "mfu": 0.5}
    assert t.postfix() == {"tok/s": "500k", "mfu": "50.0%"}
    assert str(t) == "500,000 tok/s, 500.00 TFLOP/s, MFU 50.0%"
    cpu = Throughput.measure(tokens=1500, seconds=1.0, flops_per_token=1e6, peak=None)
    assert cpu.mfu is None and cpu.postfix() == {"tok/s": "1.5k"}
    assert str(cpu) == "1,500 tok/s, 0.00 TFLOP/s"
    with pytest.raises(ValueError):
        Throughput.measure(tokens=1, seconds=0.0, flops_per_token=1.0, peak=None)


def test_the_trainer_logs_model_flops_and_mfu_against_the_devices_peak(shard_dir, tmp_path, monkeypatch):
    """On a CPU there is no peak (mfu null); with a known peak, mfu = model FLOP/s per device / peak."""
    import json

    from model import train as train_mod
    from model.estimate import flops_per_token

    monkeypatch.setattr(train_mod, "device_peak_flops", lambda device, precision: 1e12)
    args = ["--data", str(shard_dir), "--out", str(tmp_path / "run"), "--max-steps", "3", "--n-layer", "1",
            "--n-head", "2", "--n-embd", "32", "--block-size", "32", "--batch-size", "4", "--vocab-size", "512",
            "--threads", "1", "--no-progress", "--no-plot", "--no-tensorboard", "--log-interval", "1",
            "--eval-interval", "0", "--device", "cpu"]
    summary = train_mod.main(args)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    for r in records:
        assert r["mfu"] == pytest.approx(r["flops_per_s"] / 1e12, rel=1e-3, abs=1e-6)
        assert r["flops_per_s"] == pytest.approx(r["tokens_per_s"] * flops_per_token(
            train_mod.load_model(tmp_path / "run").config), rel=1e-3)
    assert summary["peak_flops"] == 1e12 and summary["mfu"] == pytest.approx(summary["flops_per_s"] / 1e12)
