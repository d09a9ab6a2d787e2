"""The STDP-only baseline's pieces: winner-take-all, thresholds, normalisation, class assignment."""

import torch

from snncli.plasticity import (
    assign_classes,
    normalize_rows,
    predict_by_assignment,
    update_thresholds,
    wta_spikes,
)


def test_wta_fires_exactly_the_most_driven_neuron_minus_its_threshold():
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]])
    x = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]], [[0.0, 1.0]]])  # [T=3, B=1, 2]
    out = wta_spikes(x, w, torch.zeros(3))
    assert out[:, 0].argmax(1).tolist() == [0, 2, 1]
    assert torch.equal(out.sum(-1), torch.ones(3, 1))
    # A high threshold on neuron 2 hands step 1 to neuron 0 (first of the tie).
    assert wta_spikes(x, w, torch.tensor([0.0, 0.0, 1.0]))[1, 0].argmax().item() == 0


def test_thresholds_rise_with_spikes_and_decay():
    post = torch.zeros(2, 4, 3)
    post[:, :, 1] = 1.0  # neuron 1 fires every spike: 3 times its fair share (8 spikes, 3 neurons)
    post[0, 0, 1], post[0, 0, 2] = 0.0, 1.0  # ... but one: neuron 2 gets 1 of the 8
    theta = update_thresholds(torch.tensor([1.0, 1.0, 1.0]), post, theta_plus=0.5, decay=0.9)
    fair = 8 / 3
    assert torch.allclose(theta, torch.tensor([0.9, 0.9 + 0.5 * 7 / fair, 0.9 + 0.5 * 1 / fair]))


def test_normalize_rows_clamps_negatives_and_fixes_each_sum():
    w = normalize_rows(torch.tensor([[1.0, -1.0, 3.0], [2.0, 2.0, 0.0]]), 2.0)
    assert torch.allclose(w, torch.tensor([[0.5, 0.0, 1.5], [1.0, 1.0, 0.0]]))


def test_assignment_readout_by_hand():
    # Neuron 0 fires for class 1, neuron 1 for class 0, neuron 2 never.
    counts = torch.tensor([[0.0, 4.0, 0.0], [3.0, 1.0, 0.0], [0.0, 5.0, 0.0], [2.0, 0.0, 0.0]])
    labels = torch.tensor([0, 1, 0, 1])
    assignments = assign_classes(counts, labels, 3)
    assert assignments.tolist() == [1, 0, -1]
    pred = predict_by_assignment(torch.tensor([[5.0, 1.0, 9.0], [0.0, 2.0, 9.0]]), assignments, 3)
    assert pred.tolist() == [1, 0]  # class 2 has no neurons and is never predicted
