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


def _parse_shipped(monkeypatch, cache_home, *, parses, data=None):
    """The catalog's raw data (the shipped TOML, or ``data``) through the cache at
    ``cache_home``, asserting whether it was parsed (a miss) or read from the cache (a hit)."""
    import sys
    import tomllib

    from fabric import catalog

    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    calls = []
    real = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: calls.append(1) or real(text))
    raw = catalog._parse_cached(catalog._SHIPPED.read_bytes() if data is None else data)
    assert len(calls) == parses
    return raw


def test_shipped_catalog_parse_is_cached(tmp_path, monkeypatch):
    import tomllib

    from fabric import catalog

    text = catalog._SHIPPED.read_bytes()
    expected = tomllib.loads(text.decode("utf-8"))
    assert _parse_shipped(monkeypatch, tmp_path, parses=1) == expected      # miss: written
    files = list((tmp_path / "fabric").iterdir())
    assert len(files) == 1 and files[0].suffix == ".marshal"
    assert _parse_shipped(monkeypatch, tmp_path, parses=0) == expected      # hit
    # an edited catalog is another entry, parsed once, and replaces the old one
    edited = text.replace(b'version = "', b'version = "edited-', 1)
    got = _parse_shipped(monkeypatch, tmp_path, parses=1, data=edited)
    assert got["catalog"]["version"].startswith("edited-") and got != expected
    assert _parse_shipped(monkeypatch, tmp_path, parses=0, data=edited) == got
    assert [f.name for f in (tmp_path / "fabric").iterdir()] != [files[0].name]
    assert len(list((tmp_path / "fabric").iterdir())) == 1
    assert _parse_shipped(monkeypatch, tmp_path, parses=1) == expected      # back: parsed
    # a damaged entry (garbage, or one byte of the payload changed) is parsed again
    (entry,) = (tmp_path / "fabric").iterdir()
    good = entry.read_bytes()
    for bad in (b"\x00garbage", good[:-40] + bytes([good[-40] ^ 1]) + good[-39:]):
        entry.write_bytes(bad)
        assert _parse_shipped(monkeypatch, tmp_path, parses=1) == expected
        assert _parse_shipped(monkeypatch, tmp_path, parses=0) == expected


def test_catalog_cache_that_cannot_be_written_is_passed_over(tmp_path, monkeypatch):
    (tmp_path / "fabric").write_text("a file where the cache directory would be")
    for _ in range(2):                              # parsed each time, nothing written
        assert _parse_shipped(monkeypatch, tmp_path, parses=1)["catalog"]["version"]
    assert (tmp_path / "fabric").is_file()
    from fabric import catalog

    catalog._write_cache(tmp_path / "c.marshal", {"t": object()})    # marshal refuses it
    assert not list(tmp_path.glob("*.marshal")) and not list(tmp_path.glob(".*"))


def test_catalog_cache_directory_rules(tmp_path, monkeypatch):
    """XDG_CACHE_HOME only when absolute; else ~/.cache when home exists; else no cache. No
    entry is written when Python writes no byte code."""
    import sys

    from fabric import catalog

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert catalog._cache_dir() == tmp_path / ".cache" / "fabric"
    monkeypatch.setenv("HOME", str(tmp_path / "missing"))
    assert catalog._cache_dir() is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert catalog._cache_dir() == tmp_path / "xdg" / "fabric"
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert catalog._parse_cached(catalog._SHIPPED.read_bytes())["catalog"]["version"]
    assert not (tmp_path / "xdg").exists()
