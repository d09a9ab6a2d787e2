
import pytest
import torch

from snncli.engine import CheckpointError, load_checkpoint, save_checkpoint


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_roundtrip_and_atomic_replace(tmp_path):
    path = tmp_path / "run.pth"
    save_checkpoint(path, {"model": {"w": torch.ones(3)}, "epoch": 1})
    save_checkpoint(path, {"model": {"w": torch.zeros(3)}, "epoch": 2})
    data = load_checkpoint(path)
    assert data["epoch"] == 2 and torch.equal(data["model"]["w"], torch.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ["run.pth"]  # no temp files left


def test_arbitrary_objects_are_not_unpickled(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    torch.save({"format": "snncli-checkpoint-v1", "x": Evil()}, path)
    with pytest.raises(CheckpointError, match=r"refused.*calls (builtins\.)?print\b"):
        load_checkpoint(path)
    assert "pwned" not in capsys.readouterr().out


def test_foreign_and_truncated_files(tmp_path):
    foreign = tmp_path / "foreign.pth"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not an snncli checkpoint"):
        load_checkpoint(foreign)
    good = tmp_path / "good.pth"
    save_checkpoint(good, {"model": {"w": torch.ones(1000)}})
    truncated = tmp_path / "cut.pth"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CheckpointError):
        load_checkpoint(truncated)

