"""bench/ingest.py's round-by-round comparison of Redis x1 with the in-memory hub (``--repeat``)."""

from __future__ import annotations

import pytest

from bench.ingest import Trial, build_parser, paired_cpu_line, store_lines, validate


def trial(store: str, sustained: float, cpu_pct: float, hubs: int = 1, round: int = 0) -> Trial:
    return Trial("http", 20, 600.0, sustained_fps=sustained, hub_cpu_pct=cpu_pct, store=store, hubs=hubs,
                 round=round, p99_ms=5.0)


def test_each_round_compares_its_own_trials_and_the_median_is_printed():
    trials = [trial(store, 600, cpu, hubs, n) for n, cpus in enumerate([(60, 80), (50, 60), (60, 70)])
              for store, cpu, hubs in (("memory", cpus[0], 1), ("redis", cpus[1], 1), ("redis", 150, 2))]
    # Listed out of order: a round's trials are compared with each other, not with their neighbours'.
    trials.sort(key=lambda t: (t.store, (t.round + 1) % 3 if t.store == "redis" else t.round))
    assert paired_cpu_line(trials, 3) == ("redis x1 / memory x1 frames per hub-CPU-s, 3 of 3 rounds: median 0.83x "
                                          "(rounds 0.75, 0.83, 0.86; target >= 0.8x)")


def test_a_round_where_either_hub_fell_short_of_the_load_is_left_out():
    trials = [trial("memory", 600, 60, round=0), trial("redis", 540, 60, round=0),  # Redis at 90 %: less work
              trial("memory", 600, 60, round=1), trial("redis", 600, 75, round=1)]
    assert "1 of 2 rounds: median 0.80x (rounds 0.80;" in paired_cpu_line(trials, 2)
    assert "no round" in paired_cpu_line([trial("memory", 500, 60), trial("redis", 600, 60)], 1)


@pytest.mark.parametrize("argv", [["--repeat", "0"], ["--repeat", "51"], ["--repeat", "2", "--find-max"]])
def test_repeat_out_of_range_or_with_find_max_is_refused(argv, capsys):
    p = build_parser()
    with pytest.raises(SystemExit):
        validate(p.parse_args(argv), p)
    assert "--repeat" in capsys.readouterr().err


def test_a_one_hub_run_reports_each_setup_once_and_no_scale_out_target():
    lines = store_lines([trial("memory", 600, 60), trial("redis", 600, 75)], hubs=1)
    assert [line.split(":")[0] for line in lines[:2]] == ["memory x1", "redis x1"]
    assert lines[2] == "redis x1 / memory x1 frames per hub-CPU-s at 20 cameras: 0.80x (target >= 0.8x)"
    assert len(lines) == 3


def test_a_two_hub_run_compares_the_cameras_both_hubs_hold():
    lines = store_lines([trial("memory", 600, 60), trial("redis", 600, 75), trial("redis", 600, 150, hubs=2)], hubs=2)
    assert lines[2].startswith("redis x2: holds 20 cameras")
    assert lines[-1] == "redis x2 / memory x1 cameras held: 1.00x (target >= 1.3x)"
