"""Registry, search order, not-found reporting and downloads."""

from __future__ import annotations

import hashlib
import io
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

import snncli.data as data
from snncli.data import (
    DataRootError,
    DataSplits,
    DatasetNotFoundError,
    ImageSet,
    UnknownDatasetError,
    list_datasets,
    load_dataset,
    register_dataset,
    search_paths,
)
from snncli.data import _registry, cifar, mnist
from snncli.data.locations import cache_dir

EXPECTED = {
    "fashionmnist", "mnist", "cifar10", "cifar100", "cifar10-down-50", "cifar10-random-small-100",
    "cifar10-random-small-500", "cifar10-random-small-gaussian-noise-0.5", "imagenet100", "imagenet1k",
    "synthetic", "synthetic-cifar",
}  # fmt: skip

try:
    import torchvision  # noqa: F401

    HAVE_TORCHVISION = True
except Exception:  # the CPU torch build here breaks its import
    HAVE_TORCHVISION = False


def test_registry_lists_every_dataset():
    assert set(list_datasets()) == EXPECTED
    assert list_datasets() == sorted(list_datasets())
    assert data.DEFAULT_DATASET in list_datasets()


@pytest.mark.parametrize("name", list_datasets())
def test_every_dataset_loads_from_a_root(name, full_root):
    entry = data.get_dataset_entry(name)
    assert entry.summary, "the loader's docstring is the dataset's one-line description"
    if name.startswith("imagenet") and not HAVE_TORCHVISION:
        with pytest.raises(ImportError, match="pip install torchvision"):
            load_dataset(name, root=full_root, download=False)
        return
    splits = load_dataset(name, root=full_root, download=False)
    assert isinstance(splits, DataSplits)
    for part in (splits.train, splits.test):
        assert len(part) > 0 and part.name == name
        assert len(part.shape) == 3 and part.num_classes >= 2
        assert part.y.dtype == torch.int64 and int(part.y.max()) < part.num_classes
    assert splits.test.shape == splits.train.shape
    if entry.files is None:
        assert splits.source == "generated" and search_paths(name) == []
    else:
        assert Path(splits.source).is_relative_to(full_root)


def test_unknown_name_lists_allowed_values():
    with pytest.raises(UnknownDatasetError, match="fashionmnist") as info:
        load_dataset("fashion")
    assert isinstance(info.value, ValueError)
    assert "did you mean 'fashionmnist'" in str(info.value)
    assert set(info.value.allowed) == EXPECTED
    with pytest.raises(UnknownDatasetError):
        search_paths("nope")


def test_register_dataset_adds_a_loadable_name(monkeypatch):
    monkeypatch.setattr(_registry, "DATASETS", _registry.DATASETS.copy())

    @register_dataset("ones")
    def ones(folder):
        """All-ones images."""
        part = ImageSet(torch.ones(4, 1, 2, 2, dtype=torch.uint8), torch.arange(4), list("abcd"), "ones")
        return DataSplits(part, part, "generated")

    assert "ones" in list_datasets()
    assert len(load_dataset("ones").train) == 4
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("ones")(ones)


def test_search_order_is_root_env_cache_system(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    paths = search_paths("fashionmnist", root=tmp_path / "root")
    origin = [
        "root" if p.is_relative_to(tmp_path / "root") else
        "env" if p.is_relative_to(tmp_path / "env") else
        "cache" if p.is_relative_to(tmp_path / "xdg" / "snncli" / "data") else
        "system"
        for p in paths
    ]  # fmt: skip
    assert origin == sorted(origin, key=["root", "env", "cache", "system"].index)
    assert set(origin) == {"root", "env", "cache", "system"}
    assert paths[0] == tmp_path / "root"
    assert tmp_path / "root" / "FashionMNIST" / "raw" in paths
    assert tmp_path / "xdg" / "snncli" / "data" / "fashionmnist" in paths
    assert tmp_path / "xdg" / "snncli" / "data" not in paths  # the shared cache is searched by name only
    assert len(paths) == len(set(paths))


def test_first_location_wins(tmp_path, fake, monkeypatch):
    # Three copies with different test-set sizes; which one loads tells where it came from.
    root, env, cache = tmp_path / "root", tmp_path / "env", tmp_path / "xdg" / "snncli" / "data" / "mnist"
    for i, folder in enumerate((root / "mnist", env, cache)):
        fake.mnist_folder(folder, n_test=10 + i)
    monkeypatch.setenv("SNN_DATA", str(env))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert load_dataset("mnist", root=root, download=False).source == str(root / "mnist")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert load_dataset("mnist", root=empty, download=False).source == str(env)
    monkeypatch.delenv("SNN_DATA")
    assert load_dataset("mnist", download=False).source == str(cache)
    assert len(load_dataset("mnist", download=False).test) == 12


def test_snn_data_may_list_several_folders(tmp_path, fake, monkeypatch):
    fake.mnist_folder(tmp_path / "b" / "mnist")
    monkeypatch.setenv("SNN_DATA", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert load_dataset("mnist", download=False).source == str(tmp_path / "b" / "mnist")


def test_cache_dir_follows_xdg_then_home(tmp_path, monkeypatch, isolated_locations):
    assert cache_dir() == isolated_locations / ".cache" / "snncli" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "snncli" / "data"


def test_not_found_lists_every_place_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_DATA", str(tmp_path / "env"))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashionmnist", root=root, download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    places = search_paths("fashionmnist", root=root)
    assert list(info.value.places) == places
    for place in places:
        assert str(place) in message
    assert "apt-get install -y dataset-fashion-mnist" in message
    assert str(cache_dir() / "fashionmnist") in message
    assert "downloading was disabled" in message


def test_failed_download_falls_through_to_not_found():
    with pytest.raises(DatasetNotFoundError, match="download failed"):
        load_dataset("mnist", download=True)
    assert not any(cache_dir().rglob("*.part"))


@pytest.mark.parametrize("bad", ["missing", "file"])
def test_bad_root_is_a_clear_error(tmp_path, bad):
    root = tmp_path / "data-root"
    if bad == "file":
        root.write_text("not a folder")
    with pytest.raises(DataRootError, match=str(root)) as info:
        load_dataset("synthetic", root=root)
    # A usage error for the CLI, and still a "not found" for code that only knows that.
    assert isinstance(info.value, ValueError) and isinstance(info.value, DatasetNotFoundError)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_into_cache(tmp_path, fake, monkeypatch):
    mirror = tmp_path / "mirror"
    written = fake.mnist_folder(mirror, compress=True)
    monkeypatch.setitem(mnist.MIRRORS, "mnist", ((tmp_path / "dead").as_uri() + "/", mirror.as_uri() + "/"))
    monkeypatch.setitem(mnist.MD5, "mnist", {f.name: _md5(f) for f in mirror.iterdir()})
    messages = []
    splits = load_dataset("mnist", download=True, on_download=messages.append)
    target = cache_dir() / "mnist"
    assert splits.source == str(target)
    assert sorted(f.name for f in target.iterdir()) == sorted(f.name for f in mirror.iterdir())
    assert splits.train.y.tolist() == written["train"][1].tolist()
    assert messages and str(target) in messages[0]
    # Once cached, no download is needed.
    assert load_dataset("mnist", download=False).source == str(target)


def test_checksum_mismatch_keeps_nothing(tmp_path, fake, monkeypatch):
    mirror = tmp_path / "mirror"
    fake.mnist_folder(mirror, compress=True)
    monkeypatch.setitem(mnist.MIRRORS, "mnist", (mirror.as_uri() + "/",))
    monkeypatch.setitem(mnist.MD5, "mnist", {f.name: "0" * 32 for f in mirror.iterdir()})
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        load_dataset("mnist", download=True)
    target = cache_dir() / "mnist"
    assert not target.exists() or not any(target.iterdir())


def test_cifar_archive_download_and_extract(tmp_path, fake, monkeypatch):
    staged = fake.cifar10_folder(tmp_path / "stage" / "cifar-10-batches-py", per_batch=10, n_test=10)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staged, arcname="cifar-10-batches-py")
        tar.addfile(tarfile.TarInfo("../escape"), io.BytesIO(b""))  # never extracted
    monkeypatch.setitem(cifar.URLS, "cifar10", (archive.as_uri(),))
    monkeypatch.setitem(cifar.MD5, "cifar10", _md5(archive))
    splits = load_dataset("cifar10", download=True)
    assert splits.source == str(cache_dir() / "cifar10" / "cifar-10-batches-py")
    assert len(splits.train) == 50
    assert sorted(p.name for p in (cache_dir() / "cifar10").iterdir()) == ["cifar-10-batches-py"]
    assert not (cache_dir() / "escape").exists() and not (cache_dir() / "cifar10" / "escape").exists()


def test_errors_survive_pickling(tmp_path):
    # Sweeps run trials in worker processes; their errors come back pickled.
    error = DatasetNotFoundError("msg", dataset="mnist", places=(tmp_path,))
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "msg" and copy.places == (tmp_path,) and copy.dataset == "mnist"
    copy = pickle.loads(pickle.dumps(UnknownDatasetError("x", allowed=("a",))))
    assert copy.allowed == ("a",)


def test_importing_data_does_not_import_torchvision():
    code = "import sys, snncli.data; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
