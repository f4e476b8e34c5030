"""The README's service walk-through, run as written (issue 13), and the service's demo week
identical to the CLI's.

The shell lines and the Python client are read from README.md itself; only what a reader
substitutes is substituted: the key the first command printed for ``dxs_…``, and a free port
for 8000 (the machine is shared)."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from engine.format import parse_plan_request
from tests.live import DXSHARE, free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def _service_section() -> tuple[list[str], str]:
    text = README.read_text(encoding="utf-8")
    part = text[text.index("### The service"):]
    bash = re.search(r"```bash\n(.*?)```", part, re.S).group(1)
    code = re.search(r"```python\n(.*?)```", part, re.S).group(1)
    lines = [ln.split("#", 1)[0].strip() for ln in bash.splitlines()]
    return [ln for ln in lines if ln.startswith("dxshare ")], code


@pytest.mark.slow
def test_the_walkthrough_plans_the_demo_week_as_written(tmp_path):
    commands, client = _service_section()
    assert [c.split()[1] for c in commands] == ["keys", "serve"]
    assert "--demo-week 2026-12-07" in commands[1]
    key = subprocess.run([*DXSHARE, *commands[0].split()[1:]], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert key.startswith("dxs_")
    port = free_port()
    serve = commands[1].replace("--port 8000", f"--port {port}").split()[1:]
    proc = subprocess.Popen([*DXSHARE, *serve], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        code = client.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}") \
                     .replace("dxs_…", key)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own code
        first, second = out.getvalue().splitlines()[:2]
        assert first.startswith("done {")
        kpis = eval(first.removeprefix("done "))  # noqa: S307 - printed by the line above
        assert kpis["visits"] >= 20 and kpis["requests"] == 40   # the demo week, not empty
        assert "recommendations" in second or "candidate" in second
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_services_demo_week_is_the_clis(tmp_path):
    from sqlalchemy import create_engine

    from engine.demand import ehime_week
    from service.cli import DEMO_SEED, DEMO_WEEK
    from service.config import Settings
    from service.db import migrate, seed, session_factory
    from service.weeks import week_document

    assert Settings().demo_seed == DEMO_SEED
    eng = create_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    migrate(eng)
    with session_factory(eng).begin() as s:
        seed(s, demo_week=DEMO_WEEK, demo_seed=DEMO_SEED)
    import datetime as dt

    with session_factory(eng)() as s:
        doc, previous = week_document(s, dt.date.fromisoformat(DEMO_WEEK))
    eng.dispose()
    service, cli = parse_plan_request(doc), ehime_week(DEMO_WEEK, seed=DEMO_SEED)
    assert previous is None
    assert service.requests == cli.requests
    assert service.experts == cli.experts
    assert service.locations == cli.locations
    assert service.horizon == cli.horizon
    assert service.objective == cli.objective and service.travel == cli.travel
