"""Every figure function writes a non-empty PNG and refuses malformed input with a clear ValueError."""

import pytest
import torch

from snncli.plots import (
    plot_confusion,
    plot_curves,
    plot_firing_rates,
    plot_layer_rasters,
    plot_membrane,
    plot_raster,
    plot_weight_histograms,
)

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > 2000


def test_curves_skip_missing_keys(tmp_path):
    history = [{"epoch": 1, "train_acc": 0.5, "test_acc": 0.4}, {"epoch": 2, "train_acc": 0.7, "test_acc": 0.6}]
    out = plot_curves(history, tmp_path / "a" / "curves.png")  # val_acc absent: skipped
    assert out == tmp_path / "a" / "curves.png" and is_png(out)
    with pytest.raises(ValueError, match="none of"):
        plot_curves(history, tmp_path / "x.png", keys=("val_acc",))
    with pytest.raises(ValueError, match="epoch"):
        plot_curves([{"train_acc": 1.0}], tmp_path / "x.png")
    with pytest.raises(ValueError, match="empty"):
        plot_curves([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_confusion(tmp_path):
    cm = torch.tensor([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    assert is_png(plot_confusion(cm, ["a", "b", "c"], tmp_path / "cm.png", "test"))
    assert is_png(plot_confusion(cm, ["a", "b", "c"], tmp_path / "cm_counts.png", "test", normalize=False))
    with pytest.raises(ValueError, match="class names"):
        plot_confusion(cm, ["a", "b"], tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match="square"):
        plot_confusion(torch.zeros(2, 3), ["a", "b"], tmp_path / "x.png", "t")


def test_weight_histograms_compare_and_masks(tmp_path):
    w = {"fc1": torch.randn(8, 6), "fc2": torch.randn(4, 8)}
    after = {"fc1": w["fc1"] + 0.1}
    masks = {"fc1": (torch.rand(8, 6) > 0.5).float()}
    out = plot_weight_histograms(w, tmp_path / "w.png", compare=after, masks=masks)
    assert is_png(out)
    with pytest.raises(ValueError, match="mask of fc1"):
        plot_weight_histograms(w, tmp_path / "x.png", masks={"fc1": torch.ones(3, 3)})
    with pytest.raises(ValueError, match="compare"):
        plot_weight_histograms(w, tmp_path / "x.png", compare={"fc2": torch.ones(2)})
    with pytest.raises(ValueError, match="no layers"):
        plot_weight_histograms({}, tmp_path / "x.png")


def test_spike_figures(tmp_path):
    spikes = (torch.rand(20, 1000) < 0.1).float()
    assert is_png(plot_raster(spikes, tmp_path / "r.png", "raster", max_neurons=100))
    hidden = [(torch.rand(6, 2, 3, 4) < 0.2).float()[:, 0], (torch.rand(6, 10) < 0.3).float()]
    assert is_png(plot_layer_rasters(hidden, tmp_path / "layers.png", "layers", names=["conv", "out"]))
    mem = torch.randn(20, 10).cumsum(0)
    assert is_png(plot_membrane(mem, tmp_path / "m.png", "membrane", threshold=1.0, labels=list("abcdefghij")))
    assert is_png(plot_firing_rates({"l1": 0.1, "l2": 0.05, "out": 0.2}, tmp_path / "f.png", "rates"))
    with pytest.raises(ValueError, match=r"\[T, N\]"):
        plot_raster(torch.zeros(4, 2, 3), tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match=r"\[T, N\]"):
        plot_membrane(torch.zeros(4), tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match="names"):
        plot_layer_rasters(hidden, tmp_path / "x.png", "t", names=["one"])
    with pytest.raises(ValueError, match=r"\[T, \.\.\.\]"):
        plot_layer_rasters([torch.zeros(5)], tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plot_firing_rates({"l1": 3.0}, tmp_path / "x.png", "t")
    assert not (tmp_path / "x.png").exists()


def test_smoothing_is_scipys_gaussian_filter():
    ndimage = pytest.importorskip("scipy.ndimage")
    import numpy as np

    from snncli.plots.curvature import smooth_surface

    z = np.random.default_rng(0).normal(size=(9, 11))
    for sigma in (0.7, 1.0, 2.0):
        np.testing.assert_allclose(smooth_surface(z, sigma), ndimage.gaussian_filter(z, sigma), atol=1e-12)
    assert smooth_surface(z, 0) is not None and np.array_equal(smooth_surface(z, 0), z)


def test_landscape_surface_and_animation(tmp_path):
    from PIL import Image

    from snncli.plots import animate_landscape, plot_landscape_surface

    coords = torch.linspace(-1, 1, 7)
    z = coords[:, None] ** 2 + coords[None, :] ** 2
    png = plot_landscape_surface(coords, z, tmp_path / "s.png", smooth=1.0, colorbar=True)
    gif = animate_landscape(coords, z, tmp_path / "s.gif", frames=6, fps=10, dpi=40)
    assert png.stat().st_size > 0
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 6 and im.info["duration"] == 100
    assert not list(tmp_path.glob(".*"))  # no temporary files left
    with pytest.raises(ValueError, match="2 frames"):
        animate_landscape(coords, z, tmp_path / "x.gif", frames=1)


def test_adversarial_examples_grid(tmp_path):
    from snncli.plots import plot_adversarial_examples

    imgs = [(e, torch.rand(2, 3, 8, 8)) for e in (0.0, 0.1, 0.2)]
    p = plot_adversarial_examples(imgs, tmp_path / "adv.png", eps_unit="L-inf", predictions=[[0, 1], [0, 2], [3, 2]],
                                  labels=[0, 1], columns=2)
    assert p.stat().st_size > 0
    with pytest.raises(ValueError, match="one shape"):
        plot_adversarial_examples([(0.0, torch.rand(1, 3, 8, 8)), (0.1, torch.rand(2, 3, 8, 8))], tmp_path / "x.png")


def test_a_loss_over_many_decades_is_drawn_in_log10():
    import numpy as np

    from snncli.plots.curvature import _wide_range

    assert _wide_range(np.array([1e-3, 1.0, 6e6])) and not _wide_range(np.array([0.5, 2.3, 40.0]))
    assert not _wide_range(np.array([-1.0, 1e6]))  # not a loss: drawn as given
