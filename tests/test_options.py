"""How to solve: the options and the model's settings, typed."""

import pytest

from engine.errors import InputError
from solvers.options import ModelSettings, SolveOptions
from tests.helpers import FORMULATIONS, solve_checked


def test_a_mapping_of_model_settings_becomes_typed_settings():
    assert SolveOptions(model={"use_tours": False, "max_tours": 0}).model == ModelSettings(
        use_tours=False, max_tours=0)
    assert SolveOptions().model == ModelSettings()
    settings = ModelSettings(redundant=False)
    assert SolveOptions(model=settings).model is settings


def test_an_unknown_model_setting_is_an_input_error_naming_it():
    with pytest.raises(InputError) as err:
        SolveOptions(model={"use_tour": False, "redundant": False, "tours": 3})
    assert [p.path for p in err.value.problems] == ["model.use_tour", "model.tours"]


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_every_formulation_plans_the_two_towns(formulation):
    plan = solve_checked("two_towns", model=FORMULATIONS[formulation])
    assert plan.status == "optimal"
