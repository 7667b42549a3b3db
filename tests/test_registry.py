"""One declaration per preset: the registry's parameters are the builder's, checked once,
with the same error whichever front end (Python, CLI, spec file, superfactory site) asks."""

import inspect
import re

import pytest
from click.testing import CliRunner

import topologies
from cli import main
from fabric.exceptions import ParameterError
from topologies.scaleout import SITE_PRESETS


@pytest.mark.parametrize("name", list(topologies.TOPOLOGIES))
def test_param_defaults_are_the_builder_signature(name):
    preset = topologies.TOPOLOGIES[name]
    sig = inspect.signature(preset.builder)
    for p in preset.params:
        assert p.name in sig.parameters, (name, p.name)
        default = p.convert(p.default) if p.convert else p.default
        assert default == sig.parameters[p.name].default, (name, p.name)
        if p.default is not None:
            assert isinstance(p.default, p.type), (name, p.name)
            p.check(p.default)          # every default passes its own check


def _toml(value):
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else repr(value)


@pytest.mark.parametrize(("name", "key", "value", "match"), [
    ("gb200-nvl72", "trays", 0, r"`trays` must be between 1 and 18, got 0"),
    ("gb300-nvl72", "nic", "cx9", r"`nic` must be one of cx7, cx8, bf3"),
    ("hgx-b200", "links_per_chip", 19, r"`links_per_chip` must be between 1 and 18"),
    ("fairwater", "gpus", -4, r"`gpus` must be between 1 and 1,000,000"),
    ("fairwater", "system", "gb100-nvl72", r"`system` must be one of"),
    ("spectrum-x", "oversubscription", 0.5, r"`oversubscription` must be >= 1"),
    ("superpod-gb200", "gpus", 0, r"`gpus` must be >= 1"),
    ("superfactory", "distance_km", -5.0, r"`distance_km` must be a finite number >= 0"),
    ("superfactory", "sites", 17, r"`sites` must be between 1 and 16"),
])
def test_same_error_from_python_cli_and_spec(tmp_path, name, key, value, match):
    builder = topologies.TOPOLOGIES[name].builder
    with pytest.raises(ParameterError, match=match) as python:
        builder(**{key: value})
    message = str(python.value)
    result = CliRunner().invoke(main, ["build", name, "--set", f"{key}={value}", "-o",
                                       str(tmp_path / "x.json")])
    assert result.exit_code == 2 and message in result.output, result.output
    spec = tmp_path / "spec.toml"
    spec.write_text(f'preset = "{name}"\n[params]\n{key} = {_toml(value)}\n')
    with pytest.raises(ParameterError) as from_spec:
        topologies.fabric_from_spec(spec)
    assert str(from_spec.value).endswith(message)
    assert not (tmp_path / "x.json").exists()


_SITE_VALUES = {"gpus": 144, "racks": 2, "system": "gb200-nvl72", "planes": 2,
                "switch": "SN5600", "aggregate_nvswitch": True, "aggregate_planes": True,
                "tiers": 2}


@pytest.mark.parametrize("site", SITE_PRESETS)
def test_superfactory_sites_take_every_site_preset_parameter(tmp_path, site):
    params = topologies.TOPOLOGIES[site].params
    assert set(_SITE_VALUES) >= {p.name for p in params}
    for p in params:
        site_spec = {p.name: _SITE_VALUES[p.name]}
        if p.name != "racks":
            site_spec.setdefault("gpus", 144)
        spec = {"preset": site, **site_spec}
        G = topologies.superfactory_graph(site_specs=[spec, spec], wan_gbps=12800.0,
                                          aggregate_nvswitch=True)
        assert G.graph["params"]["sites"] == 2
        # the same site in a spec file
        lines = "".join(f"{k} = {_toml(v)}\n" for k, v in site_spec.items())
        path = tmp_path / f"{site}-{p.name}.toml"
        path.write_text(f'preset = "superfactory"\n[params]\nwan_gbps = 12800.0\n'
                        f'aggregate_nvswitch = true\n\n[[site]]\npreset = "{site}"\n{lines}')
        assert topologies.fabric_from_spec(path).number_of_nodes() > 0


def test_superfactory_site_errors_come_from_the_site_preset():
    with pytest.raises(ParameterError,
                       match=re.escape("site 1 (fairwater): `planes` must be between 1 and 8, "
                                       "got 9")):
        topologies.superfactory_graph(site_specs=[{"gpus": 144}, {"gpus": 144, "planes": 9}])
    with pytest.raises(ParameterError, match=r"site 0 \(azure-gb300\): preset `azure-gb300` "
                                             r"has no parameter `planes`"):
        topologies.superfactory_graph(site_specs=[{"preset": "azure-gb300", "planes": 2}])
