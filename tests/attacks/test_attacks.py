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
