"""`--mean-seq-len`: time at the mean length a step computes, memory at seq_len (DESIGN §2.10)."""

import json
import math

import pytest

import estimator
from estimator.cli import run
from estimator.estimate import computed_length_spec
from estimator.planner import _limits, _native_plan, _Problem
from estimator.schedule import SchedulePhase, phase_settings, run_schedule

OPTIONS = dict(precision="fp16", optimizer="lamb", micro_batch=32, global_batch=256, attention="unfused")


def test_the_step_is_timed_at_the_mean_length_and_sized_at_seq_len() -> None:
    full = estimator.estimate("bert-large", "a100-80gx8", **OPTIONS)
    binned = estimator.estimate("bert-large", "a100-80gx8", mean_seq_len=288, **OPTIONS)
    short = estimator.load_model("bert-large").model_copy(update={"seq_len": 288})
    timed = estimator.estimate(short, "a100-80gx8", **OPTIONS)
    assert binned.step_time_s == pytest.approx(timed.step_time_s, rel=1e-12)
    assert binned.model.flops_per_sample == pytest.approx(timed.model.flops_per_sample, rel=1e-12)
    assert binned.tokens_per_s == pytest.approx(binned.samples_per_s * 288, rel=1e-12)
    # The longest batch must still fit: memory, its verdict and the ceiling stay at 512 tokens.
    assert binned.memory == full.memory
    assert binned.max_micro_batch == full.max_micro_batch
    assert binned.model.params == full.model.params
    assert binned.step_time_s < 0.7 * full.step_time_s
    assert binned.config.mean_seq_len == 288 and full.config.mean_seq_len is None


def test_the_full_length_changes_nothing() -> None:
    full = estimator.estimate("bert-large", "a100-80gx8", **OPTIONS)
    same = estimator.estimate("bert-large", "a100-80gx8", mean_seq_len=512, **OPTIONS)
    assert same.step_time_s == full.step_time_s and same.memory == full.memory


def test_a_run_in_tokens_counts_the_tokens_computed() -> None:
    binned = estimator.estimate("bert-large", "a100-80gx8", mean_seq_len=256, tokens=256e6, **OPTIONS)
    assert binned.run is not None
    # 256e6 tokens / 256 computed per sample = 10^6 samples, in whole steps of 256.
    assert binned.run.time_s == pytest.approx(math.ceil(1e6 / 256) * binned.step_time_s, rel=1e-9)


def test_the_planner_times_at_the_mean_and_fits_at_seq_len() -> None:
    options = dict(precision="fp16", global_batch=256, mean_seq_len=288)
    problem = _Problem("bert-large", "a100-80gx8", None, options)
    limits = _limits(max_tp=0, max_cp=1, max_vp=1, max_micro_batch=64, threads=1)
    result, _ = _native_plan(problem, problem.system, 3, limits, None, "")
    assert result.plans
    for candidate in result.plans:  # the core's own numbers, not re-estimated
        c = candidate.config
        again = estimator.estimate("bert-large", "a100-80gx8", **options, tp=c.tp, pp=c.pp, cp=c.cp,
                                   micro_batch=c.micro_batch, zero=c.zero,
                                   recompute=("none", "selective", "full")[int(c.recompute)],
                                   sequence_parallel=c.sequence_parallel)
        assert candidate.step_time_s == pytest.approx(again.step_time_s, rel=1e-9)
        assert candidate.memory_bytes == pytest.approx(again.memory.per_device_bytes, rel=1e-12)
        full = estimator.estimate("bert-large", "a100-80gx8", **{**options, "mean_seq_len": None},
                                  tp=c.tp, pp=c.pp, cp=c.cp, micro_batch=c.micro_batch, zero=c.zero,
                                  recompute=("none", "selective", "full")[int(c.recompute)],
                                  sequence_parallel=c.sequence_parallel)
        assert candidate.memory_bytes == pytest.approx(full.memory.per_device_bytes, rel=1e-12)
        assert candidate.step_time_s < full.step_time_s


def test_the_cli_takes_the_mean_length(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bert-large", "--hw", "a100-80gx8", "--micro-batch", "8", "--global-batch", "64", "--json"]
    assert run([*argv, "--mean-seq-len", "300"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["mean_seq_len"] == 300
    assert data["tokens_per_s"] == pytest.approx(data["samples_per_s"] * 300, rel=1e-9)


def test_a_phase_that_sets_its_own_seq_len_computes_it_in_full_unless_it_says_otherwise() -> None:
    keep = SchedulePhase(fraction=0.5)
    own_length = SchedulePhase(fraction=0.5, seq_len=128)
    own_mean = SchedulePhase(fraction=0.5, seq_len=512, mean_seq_len=300)
    assert phase_settings(keep, 256, 512, None, 288).tokens_per_sample == 288
    assert phase_settings(own_length, 256, 512, None, 288).tokens_per_sample == 128
    assert phase_settings(own_mean, 256, 512, None, 288).tokens_per_sample == 300


def test_a_schedule_counts_tokens_at_each_phase_mean_length() -> None:
    phases = (SchedulePhase(tokens=128e6, seq_len=128), SchedulePhase(tokens=288e6, mean_seq_len=288))
    result = run_schedule(phases, lambda settings: 1.0, global_batch=1000, seq_len=512, mean_seq_len=None)
    assert [phase.samples for phase in result.phases] == [1e6, 1e6]


def test_a_scheduled_phase_is_timed_at_its_mean_length() -> None:
    schedule = [{"name": "short", "fraction": 0.9, "seq_len": 128},
                {"name": "long", "fraction": 0.1, "seq_len": 512, "mean_seq_len": 288}]
    run = estimator.estimate("bert-large", "a100-80gx8", schedule=schedule, samples=256e6, **OPTIONS).run
    assert run is not None
    short, long = run.phases
    assert (short.seq_len, short.mean_seq_len, long.seq_len, long.mean_seq_len) == (128, None, 512, 288)
    binned = estimator.estimate("bert-large", "a100-80gx8", mean_seq_len=288, **OPTIONS)
    assert long.step_time_s == pytest.approx(binned.step_time_s, rel=1e-12)


def test_an_encoder_decoder_scales_its_target_length_alike() -> None:
    spec = estimator.load_model("bert-base").model_copy(update={
        "arch": "encoder-decoder", "decoder_seq_len": 128, "head": "lm", "nsp": False})
    training = estimator.TrainingConfig(mean_seq_len=256)
    timed = computed_length_spec(spec, training)
    assert (timed.seq_len, timed.decoder_seq_len) == (256, 64)
    assert computed_length_spec(spec, estimator.TrainingConfig()) is spec
