"""A lab's name becomes its namespace, so it must be a short DNS label."""

from __future__ import annotations

import pytest

from podlab.errors import PodlabError
from podlab.session import Lab


@pytest.mark.parametrize("name", ["Bad_Name", "-dash", "x" * 57, ""])
def test_invalid_names_are_refused_before_touching_the_cluster(name):
    with pytest.raises(PodlabError, match="cannot name a lab"):
        Lab(name)
