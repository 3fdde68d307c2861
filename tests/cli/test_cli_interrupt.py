"""Ctrl-C reaches the CLI either as KeyboardInterrupt or, when it lands while an extension module
initializes, as an ImportError chained to it: both end with status 130; other ImportErrors propagate."""

from __future__ import annotations

import pytest

from implicit_bias import cli


def _raise_import_error_from_interrupt(*_args):
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise ImportError("initialization failed") from exc


def _raise_plain_import_error(*_args):
    raise ImportError("no module named 'nothing'")


def test_interrupt_during_an_extension_import_exits_130(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(cli.COMMANDS, "run", _raise_import_error_from_interrupt)
    assert cli.main(["run", "--out", str(tmp_path)]) == 130
    assert "Interrupted" in capsys.readouterr().err


def test_plain_interrupt_exits_130(monkeypatch, tmp_path):
    def interrupt(*_args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "run", interrupt)
    assert cli.main(["run", "--out", str(tmp_path)]) == 130


def test_an_unrelated_import_error_is_not_taken_for_an_interrupt(monkeypatch, tmp_path):
    monkeypatch.setitem(cli.COMMANDS, "run", _raise_plain_import_error)
    with pytest.raises(ImportError, match="nothing"):
        cli.main(["run", "--out", str(tmp_path)])
