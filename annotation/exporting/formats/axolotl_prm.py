"""Axolotl's process reward data: ``prompt``, ``completions`` (the steps), ``labels`` (true = the step is correct).

Axolotl 0.21.0 trains PRMs with ``process_reward_model: true`` and a dataset of ``type: stepwise_supervised``:
its tokenizing strategy (axolotl.prompt_strategies.stepwise_supervised) reads these three columns, casts
``labels`` to int64 and puts each label on the last token of its step (steps joined by ``step_separator``, a
newline by default), with its own copy of the PRMTrainer TRL 1.14 dropped. The prompt's tokens come straight before
the first step's, so the prompt ends with the export's separator (trl_stepwise.py). Which steps are kept:
step_labels.py.
"""

from __future__ import annotations

from annotation.exporting.formats.trl_stepwise import TRLStepwise


class AxolotlPRM(TRLStepwise):
    name = "axolotl-prm"
    title = "Axolotl process reward (stepwise_supervised)"
    description = "prompt, completions (steps), labels (one boolean per step) for Axolotl's PRM trainer"
    trainer = (
        "Axolotl 0.21.0: process_reward_model: true, datasets of type: stepwise_supervised "
        "(axolotl.core.trainers.prm.PRMTrainer)"
    )
