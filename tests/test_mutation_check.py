"""The mutation check follows the rules (``tests/mutation_check.py``): each mutation's text is
found exactly once in its file, so a rule that moves or is rewritten without its mutation fails
here, at once, rather than being skipped by the check."""

from __future__ import annotations

import pytest

from tests.mutation_check import MUTATIONS, ROOT, Mutation, run


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_mutation_finds_its_rule_once(mutation):
    text = (ROOT / mutation.path).read_text(encoding="utf-8")
    assert text.count(mutation.old) == 1, f"{mutation.name}: not found once in {mutation.path}"
    assert mutation.old != mutation.new


def test_a_mutation_that_no_longer_applies_fails_the_check():
    gone = Mutation("a rule that moved", "solvers/model.py", "text that is not there", "pass")
    outcome = run(gone, timeout=1)
    assert outcome.startswith("NOT APPLIED") and not outcome.startswith("caught")


def test_every_mutation_has_its_own_name():
    names = [m.name for m in MUTATIONS]
    assert len(names) == len(set(names))
