"""The CP-SAT models, built from parts written once.

``day`` is the expert-day (its legs, their travel minutes, the drives as blocks, the circuit,
one thing at a time, the day's caps): the planner (``solvers.model.PlannerModel``) and the
slot proposals (``solvers.slots``) both compose it, so each rule of the day is written here
and nowhere else.
"""
