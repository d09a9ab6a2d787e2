"""Models: a registry of spiking networks (``create_model``/``list_models``) and what they share."""

from . import mlp as _mlp  # noqa: F401  (registers the MLP family)
from . import vgg as _vgg  # noqa: F401  (registers the conv family)
from ._registry import MODELS, create_model, list_models, model_defaults, model_family, register_model
from .adapter import SNNClassifier
from .flex import FLEX_LAYERS, Flex2D, flex_epoch_stats, flex_layers
from .layers import MaskedLinear
from .mlp import G2G_FAMILY, SNNOutput, SpikingMLP, is_time_constant, logits_of
from .routing import list_joints, list_logits, list_masks, mask_entry, register_joint, register_logits, register_mask
from .vgg import INITS, NEURONS, ConvNet, is_conv_model

__all__ = [
    "G2G_FAMILY",
    "FLEX_LAYERS",
    "INITS",
    "NEURONS",
    "MODELS",
    "model_family",
    "ConvNet",
    "Flex2D",
    "flex_epoch_stats",
    "flex_layers",
    "is_conv_model",
    "list_joints",
    "list_logits",
    "list_masks",
    "mask_entry",
    "MaskedLinear",
    "SNNClassifier",
    "SNNOutput",
    "SpikingMLP",
    "create_model",
    "is_time_constant",
    "list_models",
    "logits_of",
    "model_defaults",
    "register_joint",
    "register_logits",
    "register_mask",
    "register_model",
]
