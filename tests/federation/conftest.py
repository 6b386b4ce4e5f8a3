"""Fixtures of the federation tests: the request fixtures of the MLA tests."""

from tests.federation.second_node import abuja, abuja_database_url  # noqa: F401 - fixtures
from tests.mla.conftest import make_case, make_request  # noqa: F401 - fixtures
