"""Network matching of municipalities with outside companies and digital talent: the problem.

Domain objects (``model``), file formats (``io``) and the synthetic data generator
(``synthetic``). Algorithms live in ``solvers.matching``.
"""

from engine.matching.io import (
    ehime_municipalities,
    from_frames,
    load,
    load_demo,
    parse_document,
    read_csv_dir,
    read_csv_table,
    read_json,
    to_document,
    to_frames,
    write_csv_dir,
    write_json,
)
from engine.matching.model import (
    TOPIC_LABELS,
    Candidate,
    Conflict,
    Engagement,
    MatchData,
    Municipality,
    Need,
    field_label,
    topic_label,
)

__all__ = [
    "TOPIC_LABELS",
    "Candidate",
    "Conflict",
    "Engagement",
    "MatchData",
    "Municipality",
    "Need",
    "ehime_municipalities",
    "field_label",
    "from_frames",
    "load",
    "load_demo",
    "parse_document",
    "read_csv_dir",
    "read_csv_table",
    "read_json",
    "to_document",
    "to_frames",
    "topic_label",
    "write_csv_dir",
    "write_json",
]
