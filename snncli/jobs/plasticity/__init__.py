"""``snn plasticity``: the job (:func:`run_plasticity`) and its parts.

- :mod:`.baseline`: the supervised baseline (an ``snn train`` run, or a given one);
- :mod:`.post_training`: unsupervised passes of a local rule, evaluated after each;
- :mod:`.stdp`: the STDP-only baseline (``--baseline stdp``);
- :mod:`.seed_files`, :mod:`.figures`: the seed study's files and figures; the report is
  :mod:`snncli.jobs.reports.plasticity`.
"""

from .common import PlasticityCallbacks, PlasticityInputError, eta_tag
from .job import run_plasticity
from .post_training import post_train_epoch
from .seed_files import seed_state_dict

__all__ = ["PlasticityCallbacks", "PlasticityInputError", "eta_tag", "post_train_epoch", "run_plasticity", "seed_state_dict"]
