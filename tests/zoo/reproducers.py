"""Run a report's reproducers in-process, as a file and pasted into the interactive
interpreter, and say whether each shows the failure it reports (tests/test_zoo.py)."""

from __future__ import annotations

import code
import contextlib
import io
import re
import warnings
from dataclasses import dataclass
from typing import Any

ADDRESS = re.compile(r" at 0x[0-9a-f]+")


@dataclass
class Outcome:
    """What one reproducer did in each mode."""

    file_out: str
    file_error: BaseException | None
    repl_out: str

    @property
    def syntax(self) -> bool:
        return "SyntaxError" in self.repl_out or "IndentationError" in self.repl_out


def run(text: str) -> Outcome:
    """`text` run from a file, then pasted line by line (fresh namespaces both times)."""
    out, error = io.StringIO(), None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(compile(text, "<reproducer>", "exec"), {"__name__": "__main__"})
        except Exception as exc:  # the failure itself, for a target that raises
            error = exc
    console = code.InteractiveConsole({"__name__": "__main__"})
    pasted = io.StringIO()
    with contextlib.redirect_stdout(pasted), contextlib.redirect_stderr(pasted), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for line in text.splitlines():
            console.push(line)
        console.push("")
    return Outcome(out.getvalue(), error, pasted.getvalue())


def shows(row: dict[str, Any], outcome: Outcome) -> bool:
    """Whether a reproducer shows the failure `row` reports: the exception the target raised,
    or the value the check saw (printed, or raised as the check's own error)."""
    raised = type(outcome.file_error).__name__ if outcome.file_error else ""
    if row.get("error") in ("target", "suite"):
        return bool(raised) and raised in row["reason"]
    if raised:
        return raised in row["reason"] or str(outcome.file_error).split("\n")[0] in row["reason"]
    actual = row.get("actual")
    printed = outcome.file_out
    if row["check"] == "cost.step_cost":
        # Counted without the suite's own frames, the reproducer's numbers may differ by a
        # few lines from the check's: what it must show is the growth.
        counts = [int(n) for n in re.findall(r"executed (\d+) Python lines", printed)]
        return len(counts) >= 2 and counts[-1] > 2 * counts[0] + 60
    if actual is None:
        return bool(printed.strip())
    if isinstance(actual, str) and "\n... [" in actual:
        actual = actual.split("\n... [")[0][:-1]  # clipped in the report: its start is shown
    return any(text in printed for text in {repr(actual), str(actual)})


def same_output(outcome: Outcome) -> bool:
    """The pasted session printed what the file did (object addresses aside)."""
    return ADDRESS.sub("", outcome.file_out) in ADDRESS.sub("", outcome.repl_out)
