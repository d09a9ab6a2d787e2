"""Adversarial attacks: a registry over torchattacks plus what it lacks, run through the classifier adapter."""
