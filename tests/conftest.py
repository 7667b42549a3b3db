"""Test-session set-up: the parsed-catalog cache (``fabric.catalog``) goes to a temporary
directory, so the tests neither read nor write the user's ``~/.cache/fabric``."""

import os
import shutil
import tempfile

_saved = {}


def pytest_configure(config):
    _saved["dir"] = tempfile.mkdtemp(prefix="fabric-test-cache-")
    _saved["env"] = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = _saved["dir"]


def pytest_unconfigure(config):
    if _saved.get("env") is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = _saved["env"]
    shutil.rmtree(_saved.get("dir", ""), ignore_errors=True)
