"""The README's Python snippets run as written, and every ``relax`` command line of the
README and of ``docs/`` is one the command accepts (its options exist, its values parse)."""

import re
import shlex
from pathlib import Path

import click
import pytest

from relax.cli import main

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
#: Snippets that minimize on an Ising model of 100 spins run for minutes on 2 cores.
SLOW_SNIPPET = "relax.Ising("


def command_lines(path: Path) -> list[str]:
    """The ``relax ...`` commands of the bash blocks of ``path`` (after ``&&``, before a
    pipe or a comment)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.split("|")[0].split(" #")[0].strip()
                if part.startswith("relax "):
                    out.append(part)
    return out


COMMANDS = [(p.name, c) for p in [README, *DOCS] for c in command_lines(p)]


def test_readme_opens_with_the_two_setup_commands():
    first = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S).group(1)
    lines = [line for line in first.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "relax run" in lines[0] and "pytest" in lines[1] and ".[test]" in lines[1]


@pytest.mark.parametrize("i", [
    pytest.param(i, marks=[pytest.mark.slow] if SLOW_SNIPPET in BLOCKS[i] else [])
    for i in range(len(BLOCKS))])
def test_readme_snippet_runs(i, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile("\n".join(BLOCKS[: i + 1]), f"README block {i}", "exec"), namespace)


def test_docs_have_a_page_per_command():
    assert {p.stem for p in DOCS} >= set(main.commands) | {"README"}
    for name in main.commands:
        assert any(c.startswith(f"relax {name}") for page, c in COMMANDS if page == f"{name}.md")


@pytest.mark.parametrize("page,line", COMMANDS, ids=[f"{p}: {c}" for p, c in COMMANDS])
def test_documented_command_lines_parse(page, line):
    name, *args = shlex.split(line)[1:]
    command = main.get_command(click.Context(main), name)
    assert command is not None, f"{page}: no command {name!r}"
    try:
        command.make_context(f"relax {name}", args)
    except click.exceptions.Exit:  # --help
        pass
