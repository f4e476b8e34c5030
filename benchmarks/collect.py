"""Fold each benchmark's result file (``benchmarks/results/<name>.md``) into its section of
``benchmarks/README.md``, between ``<!-- <name>:begin -->`` and ``<!-- <name>:end -->``.

The planner benchmark writes its own section; the matcher, service and scenario benchmarks
write a result file, and this step puts them where a reader finds them.

    python -m benchmarks.collect
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["collect", "replace_section"]

HERE = Path(__file__).resolve().parent
SECTIONS = ("matcher", "service", "scenarios", "startup", "season", "bounds", "slots",
            "country", "repair", "limits", "grid", "nights", "busy_at", "real_week",
            "search")


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the marked section ``name`` replaced by ``body`` (appended if missing)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip() + "\n\n" + block + "\n"


def collect(readme: Path = HERE / "README.md", results: Path = HERE / "results") -> list[str]:
    """Update ``readme`` from the result files present; returns the sections written."""
    text = readme.read_text(encoding="utf-8")
    done = []
    for name in SECTIONS:
        path = results / f"{name}.md"
        if path.exists():
            body = path.read_text(encoding="utf-8")
            # Demote the result file's headings one level below the README's sections.
            body = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", body, flags=re.M)
            text = replace_section(text, name, body)
            done.append(name)
    readme.write_text(text, encoding="utf-8")
    return done


if __name__ == "__main__":
    print("sections written:", ", ".join(collect()) or "none")
    sys.exit(0)
