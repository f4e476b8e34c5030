"""Algorithms over the ``engine`` problem: the CP-SAT planner, the matcher and scenario runs."""
