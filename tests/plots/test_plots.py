"""Every figure function returns its figure, writes a non-empty PNG when given a path, and refuses
malformed input with a clear ValueError."""

import subprocess
import sys

import pytest
import torch
from matplotlib.figure import Figure

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


def drawn(fig, path):
    """``fig`` is a figure and ``path`` the PNG it was written to."""
    return isinstance(fig, Figure) and is_png(path)


def test_curves_skip_missing_keys(tmp_path):
    history = [{"epoch": 1, "train_acc": 0.5, "test_acc": 0.4}, {"epoch": 2, "train_acc": 0.7, "test_acc": 0.6}]
    fig = plot_curves(history, tmp_path / "a" / "curves.png", chance=0.1)  # val_acc absent: skipped
    assert drawn(fig, tmp_path / "a" / "curves.png")
    ax = fig.axes[0]
    assert [t for t in ax.get_xticks() if 1 <= t <= 2] == [1.0, 2.0]  # whole epochs, no 1.5
    assert "chance (0.1)" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="none of"):
        plot_curves(history, tmp_path / "x.png", keys=("val_acc",))
    with pytest.raises(ValueError, match="epoch"):
        plot_curves([{"train_acc": 1.0}], tmp_path / "x.png")
    with pytest.raises(ValueError, match="empty"):
        plot_curves([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_confusion(tmp_path):
    cm = torch.tensor([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    assert drawn(plot_confusion(cm, ["a", "b", "c"], tmp_path / "cm.png", "test"), tmp_path / "cm.png")
    assert drawn(plot_confusion(cm, ["a", "b", "c"], tmp_path / "cm_counts.png", "test", normalize=False), tmp_path / "cm_counts.png")
    with pytest.raises(ValueError, match="class names"):
        plot_confusion(cm, ["a", "b"], tmp_path / "x.png", "t")
    with pytest.raises(ValueError, match="square"):
        plot_confusion(torch.zeros(2, 3), ["a", "b"], tmp_path / "x.png", "t")


def test_weight_histograms_compare_and_masks(tmp_path):
    w = {"fc1": torch.randn(8, 6), "fc2": torch.randn(4, 8)}
    after = {"fc1": w["fc1"] + 0.1}
    masks = {"fc1": (torch.rand(8, 6) > 0.5).float()}
    fig = plot_weight_histograms(w, tmp_path / "w.png", compare=after, masks=masks)
    assert drawn(fig, tmp_path / "w.png")
    # fc1 has a Δw panel beside its histograms; fc2, absent from compare, has its histogram only.
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 3 and titles[1].startswith("fc1: Δw = after − before")
    assert f"{int(masks['fc1'].sum()):,} of {int(masks['fc1'].sum()):,} changed" in titles[1]
    with pytest.raises(ValueError, match="mask of fc1"):
        plot_weight_histograms(w, tmp_path / "x.png", masks={"fc1": torch.ones(3, 3)})
    with pytest.raises(ValueError, match="compare"):
        plot_weight_histograms(w, tmp_path / "x.png", compare={"fc2": torch.ones(2)})
    with pytest.raises(ValueError, match="no layers"):
        plot_weight_histograms({}, tmp_path / "x.png")


def test_spike_figures(tmp_path):
    spikes = (torch.rand(20, 1000) < 0.1).float()
    assert drawn(plot_raster(spikes, tmp_path / "r.png", "raster", max_neurons=100), tmp_path / "r.png")
    hidden = [(torch.rand(6, 2, 3, 4) < 0.2).float()[:, 0], (torch.rand(6, 10) < 0.3).float()]
    hidden[1][:, 7] = 1  # class "h" fires at every step
    fig = plot_layer_rasters(hidden, tmp_path / "layers.png", "layers", names=["conv", "out"], classes=list("abcdefghij"),
                             predicted=7)
    assert drawn(fig, tmp_path / "layers.png")
    out = fig.axes[1]
    assert "predicted: h" in out.get_title() and "h (6)" in [t.get_text() for t in out.get_yticklabels()]
    mem = torch.randn(20, 10).cumsum(0)
    assert drawn(plot_membrane(mem, tmp_path / "m.png", "membrane", threshold=1.0, labels=list("abcdefghij")), tmp_path / "m.png")
    assert drawn(plot_firing_rates({"l1": 0.1, "l2": 0.05, "out": 0.2}, tmp_path / "f.png", "rates"), tmp_path / "f.png")
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


def test_a_figure_without_a_path_is_returned_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = plot_firing_rates({"l1": 0.1})
    assert isinstance(fig, Figure) and list(tmp_path.iterdir()) == []


def test_feature_maps_draw_the_output_layer_as_labelled_classes(tmp_path):
    from snncli.plots import plot_feature_maps

    images = torch.rand(2, 1, 8, 8)
    layers = [(torch.rand(4, 2, 16) < 0.3).float(), (torch.rand(4, 2, 3) < 0.5).float()]
    fig = plot_feature_maps(images, layers, tmp_path / "f.png", names=["hidden", "output"], classes=["cat", "dog", "eel"],
                            predicted=[1, 2])
    assert drawn(fig, tmp_path / "f.png")
    output = [ax for ax in fig.axes if ax.get_title().startswith("output: rate per class")]
    assert len(output) == 2 and [t.get_text() for t in output[0].get_yticklabels()] == ["cat", "dog", "eel"]
    assert [bar.get_facecolor() for bar in output[1].patches].count(output[1].patches[2].get_facecolor()) == 1


def test_a_silent_output_says_its_prediction_is_a_tie_break(tmp_path):
    from snncli.plots import plot_feature_maps

    layers = [torch.ones(4, 2, 16), torch.zeros(4, 2, 3)]
    layers[1][:, 1, 2] = 1  # the second input makes the third class spike; the first makes no output spike
    fig = plot_feature_maps(torch.rand(2, 1, 8, 8), layers, None, names=["hidden", "output"], classes=["cat", "dog", "eel"],
                            predicted=[0, 2])
    titles = [ax.get_title() for ax in fig.axes]
    assert "output: no spike at all: cat by tie-break" in titles
    assert sum(t.startswith("output: rate per class") for t in titles) == 1


def test_sweep_bars_draw_the_chance_line(tmp_path):
    from snncli.plots.sweep import accuracy_bars

    rows = [{"lr": "0.1", "test_acc": 0.1}, {"lr": "0.01", "test_acc": 0.8}]
    fig = accuracy_bars(rows, ["lr"], None, tmp_path / "s.png", chance=0.1)
    assert drawn(fig, tmp_path / "s.png")
    assert "chance (1/10)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_importing_the_plots_leaves_a_notebooks_backend_and_pyplot_alone():
    """No global backend switch, no pyplot: a notebook's inline backend survives `import snncli.plots`."""
    code = (
        "import matplotlib, sys; matplotlib.use('svg'); import torch; import snncli.plots as p; "
        "fig = p.plot_firing_rates({'l1': 0.2}); "
        "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules, type(fig).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["svg", "False", "Figure"]
