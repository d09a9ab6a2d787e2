"""Settings declared once: flags, seed names and defaults are derived from the fields and the registries."""

import pytest
import typer.main
from typer.core import TyperOption

from snncli.cli.app import command_tree
from snncli.config import CrossvalConfig, TrainConfig
from snncli.config.plasticity import PlasticityConfig
from snncli.config.seedformat import RENAMED
from snncli.config.setting import flags_of, seed_keys
from snncli.models import list_joints, list_logits, list_masks, model_defaults


def test_every_flag_of_every_command_belongs_to_one_option():
    def walk(group):
        for cmd in group.commands.values():
            yield from walk(cmd) if hasattr(cmd, "commands") else [cmd]

    for cmd in walk(command_tree()):
        flags = [f for p in cmd.params if isinstance(p, TyperOption)
                 for f in (*p.opts, *p.secondary_opts, *getattr(p, "hidden_opts", []), *getattr(p, "hidden_secondary", []))]
        assert len(flags) == len(set(flags)), (cmd.name, sorted(f for f in flags if flags.count(f) > 1))


def test_seed_spellings_are_derived_from_the_field_names_and_seed_names():
    shown, aliases = flags_of("hidden_dim", TrainConfig.model_fields["hidden_dim"])
    assert shown == ["--hidden-dim"] and aliases == ["--hidden_dim"]
    shown, aliases = flags_of("beta", TrainConfig.model_fields["beta"])
    assert shown == ["--beta"] and aliases == ["--spiking-decay", "--spiking_decay"]
    assert RENAMED == seed_keys(TrainConfig) == {
        "network": "model", "learning_rate": "lr", "in_dimensions": "in_shape", "spiking_threshold": "threshold",
        "spiking_decay": "beta", "use_STBP": "use_stbp", "mask_type": "masking_mechanism",
        "num_spatial_attention_block": "attention_blocks",
    }


def test_the_flex_routing_choices_are_the_registries():
    for name in list_masks():
        assert TrainConfig(model="vgg6", masking_mechanism=name.lower()).masking_mechanism == name
    for name in list_logits():
        assert TrainConfig(model="vgg6", logits_mechanism=name).logits_mechanism == name
    for name in list_joints():
        assert TrainConfig(model="vgg6", joint_mechanism=name.lower()).joint_mechanism == name
    assert TrainConfig(model="vgg6", masking_mechanism="soft").masking_mechanism == "SIGMOID_SOFT"  # the grid's names
    assert TrainConfig(model="vgg6", logits_mechanism="SpatialAttentionBlock").logits_mechanism == "SPATIAL_ATTENTION"
    with pytest.raises(ValueError, match="choose from"):
        TrainConfig(model="vgg6", masking_mechanism="RELU")


@pytest.mark.parametrize("model", ["dense", "mixer", "mlp", "vgg6", "vgg11", "simple_conv"])
def test_unset_settings_take_the_models_registered_defaults(model):
    cfg = TrainConfig(model=model, dataset="synthetic")
    defaults = model_defaults(model)
    for key in ("hidden_dim", "T", "beta", "surrogate", "loss", "dropout", "width", "spiking"):
        if key in defaults:
            assert getattr(cfg, key) == defaults[key], key
    assert cfg.loss == ("membrane" if model.startswith(("vgg", "simple")) else "count")
    assert cfg.use_stbp == cfg.spiking  # follows spiking
    assert cfg.augment == "none"
    assert TrainConfig(model=model, dataset="synthetic-cifar").augment == "crop-flip"  # the dataset's default


def test_given_values_win_over_registered_defaults():
    cfg = TrainConfig(model="vgg6", dataset="synthetic", T=7, loss="count", spiking=True, augment="crop-flip")
    assert (cfg.T, cfg.loss, cfg.spiking, cfg.use_stbp, cfg.augment) == (7, "count", True, True, "crop-flip")


def test_composed_configs_hand_the_training_settings_back_unchanged():
    cv = CrossvalConfig(dataset="synthetic", model="mixer", k_folds=3, lr=0.01, threads=2)
    assert cv.train_config() == TrainConfig(dataset="synthetic", model="mixer", lr=0.01, threads=2)
    plast = PlasticityConfig(dataset="synthetic", epochs=2, threads=1)
    tcfg = plast.train_config()
    assert (tcfg.model, tcfg.hidden_dim, tcfg.T, tcfg.surrogate, tcfg.batch_size, tcfg.alpha_reg, tcfg.alpha_reg_term,
            tcfg.weight_clip, tcfg.val_fraction, tcfg.epochs, tcfg.threads, tcfg.loss) == (
        "mlp", 512, 25, "fast_sigmoid", 128, 1e-4, "output-mean", None, 0.0, 2, 1, "count")
    for name in PlasticityConfig.model_fields:
        if name in TrainConfig.model_fields:
            assert PlasticityConfig.model_fields[name].annotation == TrainConfig.model_fields[name].annotation, name
