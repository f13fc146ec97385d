"""The documentation: results pages in step with their data, links that lead somewhere, a README that stays a guide."""

import re

import pandas as pd
import pytest

from analysis import docs_pages
from tests.conftest import ROOT

MAIN_JOB = 'pip install "torch==2.13.0" -e . && python tune_configs/eleven_arm.py'
TESTS = 'pip install "torch==2.13.0" -e ".[dev]" && ruff check . && python -m pytest'
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("path", list(docs_pages.rendered()), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_generated_page_equals_what_its_data_gives(path):
    assert path.read_text() == docs_pages.rendered()[path], f"run `python -m analysis.docs_pages` ({path.name})"


def test_the_check_flag_finds_a_page_out_of_step(tmp_path, monkeypatch):
    page = tmp_path / "docs" / "results" / "default_runs.md"
    monkeypatch.setattr(docs_pages, "PAGES", {"docs/results/default_runs.md": docs_pages.default_runs_page})
    monkeypatch.setattr(docs_pages, "rendered", lambda: {page: docs_pages.default_runs_page()})
    monkeypatch.setattr(docs_pages, "ROOT", tmp_path)
    assert docs_pages.main([]) == 0 and docs_pages.main(["--check"]) == 0  # written, then in step
    page.write_text(page.read_text().replace("20.546", "20.999"))
    assert docs_pages.main(["--check"]) == 1


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(path):
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    missing = [t for t in targets if "://" not in t and not (path.parent / t).exists()]
    assert missing == []


def test_the_readme_is_a_guide_of_at_most_200_lines_that_starts_with_the_two_commands_ci_runs_one_of():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    assert lines[2:6] == ["```bash", MAIN_JOB, TESTS, "```"]
    assert TESTS in (ROOT / ".ci" / "run").read_text()


def test_the_split_table_bounds_each_trial_row_by_its_own_tasks_rllib_batch_building(monkeypatch):
    def record(task, path, iteration_s, batch_building):
        parts = dict.fromkeys(docs_pages.SPLIT_PARTS, 0.0) | {"batch_building": batch_building}
        return {"task": task, "batch_path": path, "iteration_s": iteration_s, "steps_per_s": 1000, **parts,
                "learner_outside_torch": 0.2, "speedup_trial_over_rllib": 1.0, "date": "2026-12-07"}  # fmt: skip

    records = [record("a", "rllib", 0.4, 0.1), record("a", "trial", 0.32, 0.02),
               record("b", "rllib", 1.0, 0.5), record("b", "trial", 0.6, 0.1)]  # fmt: skip
    monkeypatch.setattr(docs_pages, "read_jsonl", lambda name: pd.DataFrame(records))
    rows = [line.split(" | ") for line in docs_pages.throughput_split_table().splitlines()[2:]]
    column = docs_pages.throughput_split_table().splitlines()[0].split(" | ").index("with batch building free")
    assert {(row[0].strip("| "), row[1]): row[column] for row in rows} == {
        ("a", "rllib"): "", ("a", "trial"): "1.33x", ("b", "rllib"): "", ("b", "trial"): "2.00x"
    }  # fmt: skip
