"""TOML spec files: the same parameters as presets, errors naming the key and the line."""

import json

import pytest
from click.testing import CliRunner

import topologies
from cli import main
from fabric.exceptions import FabricFormatError, ParameterError


def write(tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def test_spec_equals_preset(tmp_path):
    path = write(tmp_path, 'preset = "superpod-h100"\n[params]\nsus = 2\n')
    G = topologies.fabric_from_spec(path)
    H = topologies.build_preset("superpod-h100", {"sus": 2})
    assert sorted(G.nodes) == sorted(H.nodes) and G.number_of_edges() == H.number_of_edges()


def test_superfactory_sites(tmp_path):
    path = write(tmp_path, 'preset = "superfactory"\n[params]\ndistance_km = 500.0\n'
                           'wan_gbps = 12800.0\n\n[[site]]\npreset = "fairwater"\ngpus = 144\n'
                           'planes = 2\n\n[[site]]\npreset = "azure-gb300"\ngpus = 288\n')
    G = topologies.fabric_from_spec(path)
    gpus = {}
    for _, d in G.nodes(data=True):
        if d["kind"] == "gpu":
            gpus[d["site"]] = gpus.get(d["site"], 0) + 1
    assert gpus == {0: 144, 1: 288}
    wan = [d for *_, d in G.edges(data=True) if d["medium"] == "wan"]
    assert wan[0]["bandwidth_gbps"] == 12800.0
    assert wan[0]["latency_ns"] == pytest.approx(500.0 * 1.3 * 4900.0)


@pytest.mark.parametrize(("text", "match"), [
    ('preset = "fairwater"\ncolour = "red"\n', r"spec.toml:2: `colour` is not a spec key"),
    ('preset = "fairwater"\n[params]\ngpus = 100\nplanez = 2\n',
     r"spec.toml:4: \[params\] `planez`: preset `fairwater` has no parameter `planez`"),
    ('preset = "fairwater"\n[params]\ngpus = -4\n', r"spec.toml:3: \[params\] `gpus`: `gpus` must be between 1 and 1,000,000"),
    ('preset = "nope"\n', r"spec.toml:1: `preset` = 'nope' is not a preset"),
    ('preset = "superfactory"\n[[site]]\npreset = "fairwater"\n[[site]]\npreset = "fairwater"\n'
     'gpu = 5\n', r"spec.toml:6: \[site\] `gpu` is not a parameter of a fairwater site"),
    ('preset = "gb200-nvl72"\n[[site]]\ngpus = 4\n', r"need preset = \"superfactory\""),
    ('[params]\n', r"`preset` is missing"),
])
def test_spec_errors_name_key_and_line(tmp_path, text, match):
    with pytest.raises(ParameterError, match=match):
        topologies.fabric_from_spec(write(tmp_path, text))


def test_invalid_toml(tmp_path):
    with pytest.raises(FabricFormatError, match=r"not valid TOML: .*line 2"):
        topologies.fabric_from_spec(write(tmp_path, 'preset = "x"\n[params\n'))


def test_cli_build_spec(tmp_path):
    spec = write(tmp_path, 'preset = "gb300-nvl72"\n[params]\ntrays = 2\n')
    out = tmp_path / "f.json"
    runner = CliRunner()
    r = runner.invoke(main, ["build", str(spec), "-o", str(out)])
    assert r.exit_code == 0, r.output
    info = json.loads(runner.invoke(main, ["info", str(out), "--json", "--counts-only"]).stdout)
    assert info["gpus"] == 8
    bad = write(tmp_path, 'preset = "fairwater"\n[params]\nplanes = 99\n')
    r = runner.invoke(main, ["build", str(bad), "-o", str(tmp_path / "g.json")])
    assert r.exit_code == 2 and "spec.toml:3" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "g.json").exists()
