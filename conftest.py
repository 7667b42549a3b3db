"""pytest configuration shared by the test suite and the doctests."""

import networkx as nx
import pytest


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["nx"] = nx
