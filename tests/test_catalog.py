"""The shipped catalog: every number sourced, required parts present, user overrides."""

import pytest

import fabric
from fabric.catalog import REQUIRED
from fabric.exceptions import CatalogError

CAT = fabric.default_catalog()


def test_required_parts_present():
    assert {"H100", "H200", "B200", "GB200", "GB300"} <= set(CAT.keys("gpu"))
    assert {"nvswitch3", "nvlink5-switch"} <= set(CAT.keys("nvswitch"))
    assert {"cx7", "cx8", "bf3"} <= set(CAT.keys("nic"))
    assert {"QM9700", "Q3400", "SN5600"} <= set(CAT.keys("switch"))
    assert CAT.keys("cable")


def test_every_number_has_a_source():
    for category in CAT.categories():
        for key in CAT.keys(category):
            part = CAT.part(category, key)
            for name, value in part.fields.items():
                if isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
                    assert value.source and value.source != "fabric/data/catalog.toml", \
                        f"{category}.{key}.{name} has no source"
                    assert value.conf in {"H", "M", "L"}, f"{category}.{key}.{name}"


def test_prices_are_estimates():
    for category in CAT.categories():
        for key in CAT.keys(category):
            part = CAT.part(category, key)
            if "price_usd" in part.fields:
                assert part.field("price_usd").estimate, f"{category}.{key}"


def test_published_numbers():
    # hardware-facts §1-§4, the numbers the builders depend on
    assert CAT.part("gpu", "H100")["nvlink_link_gbps"] == 200.0     # 25 GB/s per link
    assert CAT.part("gpu", "GB200")["nvlink_link_gbps"] == 400.0    # 50 GB/s per link
    assert CAT.part("nvswitch", "nvswitch3")["ports"] == 64
    assert CAT.part("nvswitch", "nvlink5-switch")["ports"] == 72
    q = CAT.part("switch", "Q3400")
    assert (q["ports"], q["port_gbps"]) == (144, 800.0)
    for key in CAT.keys("switch"):
        sw = CAT.part("switch", key)
        assert sw["ports"] * sw["port_gbps"] == sw["capacity_gbps"]
        assert int(sw["port_modes"][str(int(sw["port_gbps"]))]) == sw["ports"]


def test_required_fields_complete():
    for category, fields in REQUIRED.items():
        for key in CAT.keys(category):
            part = CAT.part(category, key)
            assert all(f in part.fields for f in fields)


def test_user_override_and_extension(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text('[gpu.H100]\npower_w = 650\n[switch.MY-SW]\nname = "lab switch"\n'
                    'protocol = "ethernet"\nports = 32\nport_gbps = 400.0\n'
                    'capacity_gbps = 12800.0\nport_modes = { "400" = 32 }\n'
                    'sharp_version = 0\nlatency_ns = 400.0\npower_w = 500.0\n')
    cat = fabric.load_catalog(path)
    assert cat.part("gpu", "H100")["power_w"] == 650
    assert cat.part("gpu", "H100").field("power_w").source == f"user catalog {path}"
    assert cat.part("gpu", "H100")["nvlink_links"] == 18          # untouched fields stay
    assert cat.part("switch", "MY-SW")["ports"] == 32
    assert fabric.default_catalog().part("gpu", "H100")["power_w"] != 650   # no leak


def test_incomplete_user_part(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[nic.half]\nname = "half a NIC"\n')
    with pytest.raises(CatalogError, match=r"`nic.half` lacks"):
        fabric.load_catalog(path)


def test_unknown_part_lists_known():
    with pytest.raises(CatalogError, match="known gpu parts: .*GB200"):
        CAT.part("gpu", "TPUv7")


@pytest.mark.parametrize(("text", "match"), [
    ("[gpu.H100]\nnvlink_links = -5\n", r"`gpu.H100.nvlink_links` must be a finite number >= 0"),
    ("[switch.QM9700]\nports = 0\n", r"`switch.QM9700.ports` must be > 0"),
    ("[nic.cx7]\nmax_gbps = nan\n", r"`nic.cx7.max_gbps` must be a finite number"),
])
def test_user_catalog_numbers_checked(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=match):
        fabric.load_catalog(path)
