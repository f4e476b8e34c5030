"""The CP-SAT models, built from parts written once.

- ``day``: the expert-day (its legs, their travel minutes, the drives as blocks, the circuit,
  one thing at a time, the day's caps). The planner and the slot proposals both compose it, so
  each rule of the day is written there and nowhere else.
- ``base``, ``tours``, ``hints``: the planner's model (``solvers.model.PlannerModel``) in
  parts: its variables and build state, the choice of each day's tour, hints and reading a plan.
- ``neighbourhood``: the model of a slot proposal's few expert-days (``solvers.slots``).
- ``solver``: the one place a CP-SAT solver is configured.
"""
