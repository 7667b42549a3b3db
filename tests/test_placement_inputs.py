"""Tests of solvers.placement.inputs.busy: file, random fraction, their union, bad fractions."""

import json
import math

import pytest

import topologies
from fabric.exceptions import ParameterError
from fabric.locality import gpu_nodes
from solvers import placement as pl


@pytest.fixture(scope="module")
def G():
    return topologies.build_preset("superpod-h100")


def test_busy_is_public():
    assert "busy" in pl.__all__
    assert "build_placement_model" not in pl.__all__


def test_busy_neither_is_empty(G):
    assert pl.busy(G) == frozenset()


def test_busy_file_only(tmp_path, G):
    f = tmp_path / "busy.json"
    f.write_text(json.dumps(["d0-gpu0", "d0-gpu1"]))
    assert pl.busy(G, file=f) == pl.load_busy_file(f, G) == {"d0-gpu0", "d0-gpu1"}


def test_busy_fraction_only_matches_random_busy(G):
    got = pl.busy(G, fraction=0.25, seed=3)
    assert isinstance(got, frozenset)
    assert got == pl.random_busy(G, 0.25, seed=3)
    assert len(got) == 64                      # 8 of 32 hosts of 8 GPUs


def test_busy_file_and_fraction_are_united(tmp_path, G):
    rand = pl.random_busy(G, 0.25, seed=3)
    extra = next(g for g in gpu_nodes(G) if g not in rand)
    f = tmp_path / "busy.json"
    f.write_text(json.dumps({"busy": [extra]}))
    got = pl.busy(G, file=f, fraction=0.25, seed=3)
    assert got == rand | {extra}
    assert isinstance(got, frozenset)


def test_busy_zero_fraction(G):
    assert pl.busy(G, fraction=0.0) == frozenset()


@pytest.mark.parametrize("fraction", [math.nan, math.inf, -math.inf, -0.1, 1.5,
                                      "0.5", True])
def test_busy_bad_fraction(G, fraction):
    with pytest.raises(ParameterError, match=r"`fraction` \(--busy-fraction\).*\[0, 1\]"):
        pl.busy(G, fraction=fraction)


def test_busy_bad_fraction_checked_before_file(tmp_path, G):
    f = tmp_path / "busy.json"
    f.write_text("{not json")
    with pytest.raises(ParameterError, match="--busy-fraction"):
        pl.busy(G, file=f, fraction=math.nan)


def test_busy_bad_file(tmp_path, G):
    f = tmp_path / "busy.json"
    f.write_text(json.dumps({"busy": ["nope"]}))
    with pytest.raises(ParameterError, match="unknown GPU"):
        pl.busy(G, file=f, fraction=0.1)
