"""Local, unsupervised learning rules (Hebbian, anti-Hebbian, Oja, STDP) as pure functions on tensors."""
