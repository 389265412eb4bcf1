"""timesformer/engine/submission.py, the parts its command line (test_submit.py) does not reach
on its own: ``--resume-from`` read through a ``last_checkpoint`` file."""

import pytest

from timesformer.engine.submission import SubmitError, resolve_resume_from


def test_resume_from_reads_a_last_checkpoint_file(tmp_path):
    (tmp_path / "checkpoint_epoch_00003.pyth").write_bytes(b"")
    (tmp_path / "last_checkpoint").write_text("checkpoint_epoch_00003.pyth\n")
    resolved = resolve_resume_from(str(tmp_path / "last_checkpoint"))
    assert resolved == str(tmp_path / "checkpoint_epoch_00003.pyth")
    (tmp_path / "last_checkpoint").write_text("gone.pyth")
    with pytest.raises(SubmitError, match="gone.pyth"):
        resolve_resume_from(str(tmp_path / "last_checkpoint"))
