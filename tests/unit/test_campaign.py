"""The run around the step, wired into `estimate`: critical batch, schedules, failures, CO2."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from estimator import estimate
from estimator.batch_scaling import MEASURED_NOISE_SCALES
from estimator.energy import GRID_INTENSITY_WORLD_G_PER_KWH, PUE_HYPERSCALE
from estimator.errors import EstimatorError

RESNET = {"precision": "fp16", "epochs": 1}


# ------------------------------------------------------------------------------ critical batch
def test_critical_batch_is_null_without_a_noise_scale():
    assert estimate("resnet50", "v100x8", **RESNET).critical_batch is None


def test_critical_batch_from_the_option_and_a_warning_past_it():
    result = estimate("resnet50", "v100x8", noise_scale=100.0, **RESNET)
    assert result.critical_batch == 100.0
    assert result.config.global_batch == 256
    warning = next(w for w in result.warnings if "critical batch" in w)
    assert warning.startswith("global batch 256 exceeds the critical batch ≈ 100 samples")
    assert "McCandlish et al. 2018" in warning


def test_no_warning_below_the_critical_batch():
    result = estimate("resnet50", "v100x8", noise_task="imagenet", **RESNET)
    assert result.critical_batch == MEASURED_NOISE_SCALES["imagenet"].critical_batch_low == 15_000
    assert not [w for w in result.warnings if "critical batch" in w]


def test_a_task_in_tokens_becomes_samples_of_the_model():
    result = estimate("gpt2", "a100x8", noise_task="billion_word")
    assert result.critical_batch == pytest.approx(100_000 / 1024)


def test_the_model_files_training_section_gives_a_noise_scale(tmp_path: Path):
    path = tmp_path / "rn.yaml"
    path.write_text("preset: resnet50\ntraining: {noise_scale: 4096}\n")
    assert estimate(path, "v100x8").critical_batch == 4096
    # A task named as an option wins over the file's number; a number as an option over both.
    assert estimate(path, "v100x8", noise_task="cifar10").critical_batch == 900
    assert estimate(path, "v100x8", noise_task="cifar10", noise_scale=77.0).critical_batch == 77


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"noise_task": "nope"}, "--noise-task nope: task must be one of atari, billion_word"),
        ({"noise_task": "atari"}, "--noise-task atari: task 'atari' has a range of critical batches"),
        ({"noise_task": "billion_word"}, "--noise-task billion_word: its critical batch is in tokens"),
    ],
)
def test_bad_noise_tasks_name_the_option(options, message):
    with pytest.raises(EstimatorError, match="^" + message.replace("(", r"\(")):
        estimate("resnet50", "v100x8", **options)


# ---------------------------------------------------------------------------------- schedules
PHASES = [
    {"name": "small", "fraction": 0.5, "image_size": 128},
    {"name": "full", "fraction": 0.4},
    {"name": "large", "fraction": 0.1, "image_size": 288, "global_batch": 128},
]


def test_a_schedule_sums_its_phases():
    # 256 images per GPU, as NVIDIA's recipe: the GPU, not the eager host, sets the pace.
    plain = estimate("resnet50", "v100x8", epochs=10, precision="fp16", global_batch=2048)
    result = estimate("resnet50", "v100x8", epochs=10, precision="fp16", global_batch=2048, schedule=PHASES)
    run, phases = result.run, result.run.phases
    assert [phase.name for phase in phases] == ["small", "full", "large"]
    assert run.steps == sum(phase.steps for phase in phases)
    assert run.time_s == pytest.approx(math.fsum(phase.time_s for phase in phases))
    assert run.device_hours == pytest.approx(math.fsum(phase.device_hours for phase in phases))
    assert run.energy_kwh == pytest.approx(math.fsum(phase.energy_kwh for phase in phases))
    assert run.cost_usd.on_demand == pytest.approx(math.fsum(p.cost_usd.on_demand for p in phases))
    assert run.samples == pytest.approx(10 * 1_281_167)
    small, full, large = phases
    # The phase without overrides is the base estimate; the others are re-estimated.
    assert full.step_time_s == plain.step_time_s
    assert small.step_time_s < full.step_time_s
    assert (small.image_size, full.image_size, large.image_size) == (128, 224, 288)
    assert large.global_batch == 128 and large.steps == math.ceil(0.1 * 10 * 1_281_167 / 128)
    assert run.time_s < plain.run.time_s  # most of the run at 128 px


def test_a_schedule_in_the_model_file_and_its_json(tmp_path: Path):
    path = tmp_path / "bert.yaml"
    path.write_text(
        "preset: bert-large\ntraining:\n  schedule:\n"
        "    - {name: seq128, fraction: 0.9, seq_len: 128}\n"
        "    - {name: seq512, fraction: 0.1}\n"
    )
    result = estimate(path, "v100x8", samples=256e6, precision="fp16")
    first, second = result.run.phases
    assert (first.seq_len, second.seq_len) == (128, 512)
    assert (first.steps, second.steps) == (900_000, 100_000)
    assert '"phases": [' in result.to_json()


def test_schedule_errors_name_the_phase(tmp_path: Path):
    with pytest.raises(EstimatorError, match=r"^schedule: a phase given as a fraction needs the run's size"):
        estimate("resnet50", "v100x8", schedule=PHASES)
    with pytest.raises(EstimatorError, match=r"^schedule phase 1: image_size: only for cnn models"):
        estimate("gpt2", "a100x8", tokens=1e9, schedule=[{"fraction": 1.0, "image_size": 64}])
    path = tmp_path / "bad.yaml"
    path.write_text("preset: resnet50\ntraining:\n  schedule:\n    - {fraction: 1.0, image_szie: 128}\n")
    with pytest.raises(EstimatorError, match=r"bad.yaml: training.schedule: phase 1: image_szie: unknown key"):
        estimate(path, "v100x8")


# ----------------------------------------------------------------- failures, energy and CO2
def test_energy_and_co2_defaults():
    run = estimate("resnet50", "v100x8", **RESNET).run
    assert run.pue == PUE_HYPERSCALE
    assert run.facility_energy_kwh == pytest.approx(run.energy_kwh * PUE_HYPERSCALE)
    assert run.co2_kg == pytest.approx(run.facility_energy_kwh * GRID_INTENSITY_WORLD_G_PER_KWH / 1000)
    assert run.reliability is None and run.goodput is None and run.wall_time_with_failures_s is None
    custom = estimate("resnet50", "v100x8", pue=1.5, grid_gco2_per_kwh=100, **RESNET).run
    assert custom.co2_kg == pytest.approx(run.energy_kwh * 1.5 * 100 / 1000)


def test_failures_stretch_the_run_into_its_parts():
    result = estimate("gpt3-175b", "a100-80gx8", nodes=128, tp=8, pp=16, micro_batch=1,
                      recompute="selective", sequence_parallel=True, tokens=300e9,
                      checkpoint_s=120, restart_s=900, node_mtbf_h=6300)
    run = result.run
    parts = run.reliability
    assert parts.mtbi_s == pytest.approx(6300 * 3600 / 128)
    assert run.wall_time_with_failures_s == pytest.approx(run.time_s + parts.checkpointing_s + parts.interruptions_s)
    assert 0.9 < run.goodput < 1
    assert run.goodput == pytest.approx(run.time_s / run.wall_time_with_failures_s)
    assert run.cost_with_failures_usd.on_demand == pytest.approx(
        run.cost_usd.on_demand * run.wall_time_with_failures_s / run.time_s)
    # More frequent failures cost more.
    worse = estimate("gpt3-175b", "a100-80gx8", nodes=128, tp=8, pp=16, micro_batch=1,
                     recompute="selective", sequence_parallel=True, tokens=300e9,
                     checkpoint_s=120, restart_s=900, node_mtbf_h=1000).run
    assert worse.goodput < run.goodput


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"checkpoint_s": 60}, "--checkpoint-s: needs what interrupts the run"),
        ({"node_mtbf_h": 100}, "--node-mtbf-h: needs --checkpoint-s"),
        ({"preemptions_per_h": 0.5}, "--preemptions-per-h: needs --checkpoint-s"),
        ({"restart_s": 60}, "--restart-s: needs --checkpoint-s"),
    ],
)
def test_reliability_options_come_as_a_set(options, message):
    with pytest.raises(EstimatorError, match="^" + message):
        estimate("resnet50", "v100x8", **RESNET, **options)


def test_spot_preemptions_without_a_run_only_warn():
    result = estimate("resnet50", "v100x8", checkpoint_s=60, preemptions_per_h=0.1)
    assert result.run is None
    assert any(w.startswith("--checkpoint-s: failures need a run") for w in result.warnings)
