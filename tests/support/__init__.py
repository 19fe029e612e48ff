"""Helpers the tests import as a package (``from tests.support import ...``)."""
