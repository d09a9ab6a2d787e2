"""Attacks: the template's guarantees for every registered attack, and agreement with references."""

import pytest
import torch
import torch.nn.functional as F
import torchattacks

from snncli.attacks import (
    DEFAULT_EPS,
    accuracy,
    create_attack,
    list_attacks,
    robust_accuracy,
)
from snncli.data import iterate_batches
from snncli.engine import load_run
from snncli.models import SNNClassifier, create_model


def tiny_classifier(enc="current"):
    torch.manual_seed(0)
    model = create_model("mlp", in_shape=(1, 6, 6), num_classes=4, hidden_dim=12, T=4, threshold=0.3).eval()
    return SNNClassifier(model, T=4, enc=enc, readout="membrane")


@pytest.fixture(scope="module")
def loaded(run_dir):
    run = load_run(run_dir)
    x, y = next(iterate_batches(run.test, 64, shuffle=False))
    return run, SNNClassifier.from_run(run.model, run.cfg), x, y


@pytest.mark.parametrize("name", list_attacks())
def test_every_attack_stays_in_the_budget_and_is_reproducible(name):
    clf = tiny_classifier()
    x, y = torch.rand(5, 1, 6, 6), torch.tensor([0, 1, 2, 3, 0])
    kw = dict(steps=2, seed=3, samples=4, queries=5)
    a = create_attack(name, clf, 4 / 255, **kw)
    adv = a(x, y)
    assert adv.shape == x.shape and adv.min() >= 0 and adv.max() <= 1
    if a.bounded:
        assert (adv - x).abs().max() <= 4 / 255 + 1e-6
    torch.testing.assert_close(create_attack(name, clf, 4 / 255, **kw)(x, y), adv)
    assert torch.equal(create_attack(name, clf, 0.0, **kw)(x, y), x)
    assert clf.training is False and all(p.requires_grad for p in clf.parameters())


def test_unknown_attack_lists_the_choices():
    with pytest.raises(ValueError, match="choose from .*pgd"):
        create_attack("deepfool2", tiny_classifier(), 0.1)


def test_pgd_accuracy_is_non_increasing_in_eps_and_eps0_is_clean(loaded):
    _, clf, x, y = loaded
    clean = accuracy(clf, x, y, seed=0)
    assert clean > 0.5
    rows = robust_accuracy(clf, "pgd", x, y, eps=[0, 4 / 255, 16 / 255, 64 / 255], steps=5, seed=0)
    accs = [r["accuracy"] for r in rows]
    assert accs[0] == clean
    assert all(b <= a for a, b in zip(accs, accs[1:])), accs
    assert accs[-1] < clean  # the attack does something
    robust = [r["robust_accuracy"] for r in rows]
    assert robust[0] == clean and all(r <= a for r, a in zip(robust, accs))
    assert all(b <= a for a, b in zip(robust, robust[1:]))
    assert [r["eps"] for r in rows][:2] == [0.0, 4 / 255]


def test_fgsm_matches_the_formula_and_pgd_matches_torchattacks(loaded):
    _, clf, x, y = loaded
    eps = 8 / 255
    xg = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(F.cross_entropy(clf(xg), y), xg)
    expected = (x + eps * grad.sign()).clamp(0, 1)
    torch.testing.assert_close(create_attack("fgsm", clf, eps)(x, y), expected)

    ours = create_attack("pgd", clf, eps, steps=5, alpha=2 / 255, seed=11)(x, y)
    torch.manual_seed(11)
    theirs = torchattacks.PGD(clf, eps=eps, alpha=2 / 255, steps=5, random_start=True)(x, y)
    torch.testing.assert_close(ours, theirs)


def test_noise_is_a_random_corner_of_the_ball():
    x = torch.full((2, 1, 6, 6), 0.5)
    adv = create_attack("noise", tiny_classifier(), 0.1, seed=1)(x, torch.zeros(2, dtype=torch.long))
    assert torch.allclose((adv - x).abs(), torch.full_like(x, 0.1))
    assert (adv > x).any() and (adv < x).any()


def test_rate_coded_rows_share_the_encoding_noise():
    clf = tiny_classifier("rate")
    x, y = torch.rand(8, 1, 6, 6), torch.randint(0, 4, (8,))
    rows = robust_accuracy(clf, "noise", x, y, eps=[0, 0], seed=5)
    assert rows[0]["accuracy"] == rows[1]["accuracy"] == accuracy(clf, x, y, seed=5)
    assert DEFAULT_EPS[0] == 0 and DEFAULT_EPS[-1] == 16 / 255


# ----------------------------------------------------------------------------- the seed's protocol and the new attacks

import numpy as np  # noqa: E402

from snncli.attacks import SEED_GRIDS, curve_summary, seed_eps, seed_settings  # noqa: E402
from snncli.attacks.protocol import SeedGrid, trapezoid  # noqa: E402


def test_seed_grids_are_its_linspaces():
    want = {"fgsm": (0, 0.64), "pgd": (0, 23 / 255), "spgd": (0, 0.5), "spsa": (0, 0.21), "onepixel": (1, 42),
            "jsma": (0, 1.5), "jitter": (0, 0.3), "gaussian": (0, 0.42)}
    assert set(SEED_GRIDS) == set(want)
    for name, (lo, hi) in want.items():
        np.testing.assert_allclose(seed_eps(name), np.linspace(lo, hi, 23), rtol=0, atol=1e-12)
        assert seed_eps(name)[-1] == hi
    with pytest.raises(ValueError, match="it ran fgsm"):
        seed_eps("square")


def test_seed_settings_per_budget():
    assert seed_settings("pgd", 0.08) == {"steps": 20, "alpha": 0.02}
    assert seed_settings("spsa", 0.21)["steps"] == 8 and seed_settings("spsa", 0.02) is None  # int(40 eps) = 0
    assert seed_settings("onepixel", 42.0) == {"steps": 84, "popsize": 42}
    assert seed_settings("jsma", 0.3) == {"gamma": 0.1}
    assert seed_settings("jitter", 0.2)["alpha"] == 0.05


def test_auc_is_the_trapezoid_and_the_seed_auc_uses_its_spacing():
    rows = [{"eps": e, "accuracy": a, "robust_accuracy": a / 2} for e, a in [(0.0, 1.0), (0.1, 0.5), (0.3, 0.0)]]
    s = curve_summary(rows)
    assert s["auc"] == pytest.approx(0.1 * 0.75 + 0.2 * 0.25)
    assert s["auc_normalised"] == pytest.approx(s["auc"] / 0.3) and s["auc_robust"] == pytest.approx(s["auc"] / 2)
    grid = SeedGrid(0.0, 0.64)
    accs = list(np.linspace(1, 0, 23))
    seeded = curve_summary([{"eps": e, "accuracy": a} for e, a in zip(grid.values(), accs)], grid)
    assert seeded["auc"] == pytest.approx(0.32)
    assert seeded["auc_seed"] == pytest.approx(np.trapezoid(accs, dx=0.64 / 23))  # the seed's dx = max / num
    assert trapezoid([0, 1], [2, 2]) == 2.0


def test_protocol_settings_can_skip_an_attack_and_examples_are_handed_over(loaded):
    _, clf, x, y = loaded
    seen = {}
    rows = robust_accuracy(clf, "spsa", x[:8], y[:8], eps=[0, 0.02, 0.05], seed=0, batch_size=4,
                           settings=lambda e: seed_settings("spsa", e), examples=2,
                           on_examples=lambda e, imgs: seen.__setitem__(e, imgs))
    assert [r["attacked"] for r in rows] == [False, False, True]
    assert rows[1]["accuracy"] == rows[0]["accuracy"] and rows[1]["max_linf"] == 0.0
    assert set(seen) == {0.0, 0.02, 0.05} and seen[0.05].shape == (2, *x.shape[1:])
    assert torch.equal(seen[0.0], x[:2].cpu()) and (seen[0.05] - x[:2]).abs().max() <= 0.05 + 1e-6


def test_onepixel_changes_at_most_its_pixels():
    clf = tiny_classifier()
    x, y = torch.rand(3, 1, 6, 6), torch.tensor([0, 1, 2])
    adv = create_attack("onepixel", clf, 2.0, steps=3, popsize=4, seed=0)(x, y)
    changed = ((adv - x).abs() > 0).flatten(1).sum(1)
    assert (changed <= 2).all()


def test_jsma_is_an_l0_attack_targeted_at_the_next_class():
    clf = tiny_classifier()
    x, y = torch.rand(3, 1, 6, 6), torch.tensor([0, 1, 3])
    adv = create_attack("jsma", clf, 1.0, gamma=0.2)(x, y)
    changed = ((adv - x).abs() > 1e-7).flatten(1).sum(1)
    assert (changed <= 0.2 * 36 + 2).all() and (changed > 0).any()
    assert create_attack("jsma", clf, 1.0).bounded is False and create_attack("jsma", clf, 1.0).eps_max is None


def test_autoattack_is_torchattacks_autoattack():
    clf = tiny_classifier()
    x, y = torch.rand(6, 1, 6, 6), torch.tensor([0, 1, 2, 3, 0, 1])
    ours = create_attack("autoattack", clf, 8 / 255, seed=5)(x, y)
    clf.eval()
    theirs = torchattacks.AutoAttack(clf, norm="Linf", eps=8 / 255, version="standard", n_classes=4, seed=5)(x, y)
    torch.testing.assert_close(ours, theirs)
