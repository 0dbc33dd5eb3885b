"""CLI assertions shared by the safety tests: an error is exactly one line, no traceback, with a known exit code."""

from __future__ import annotations

import pytest

from m2v_edge.cli import main


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], *needles: str, code: int = 2) -> str:
    """Run ``m2v-edge ARGV``; assert exit ``code`` and one stderr line holding every needle; return the line."""
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err
