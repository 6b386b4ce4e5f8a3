"""Fixtures of the federation tests: the request fixtures of the MLA tests."""

from tests.mla.conftest import make_case, make_request  # noqa: F401 - fixtures
