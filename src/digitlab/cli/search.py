"""`digitlab search`: search for the learning rate, weight decay, hidden size and dropout, on
Optuna: random or TPE draws, pruning, a study that resumes after a crash and is shared by
processes or machines."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from digitlab.cli.options import (
    Interval,
    SectionedCommand,
    Sizes,
    activation_option,
    data_option,
    progress_option,
    seed_option,
)
from digitlab.i18n import _
from digitlab.workflows.config import OPTIMIZERS
from digitlab.workflows.search import PRUNERS, SAMPLERS, SearchSpace

_SPACE = SearchSpace()

SECTIONS = {
    _("What is searched"): ("lr", "weight_decay", "hidden", "dropout"),
    _("How"): ("sampler", "pruner", "trials", "epochs", "subset", "validation", "time_limit"),
    _("Fixed settings"): ("optimizer", "activation", "batch_size", "data", "seed"),
    _("Where it runs"): ("jobs", "storage", "study", "resume"),
    _("Output"): ("out", "progress"),
}
#: the options a resumed search takes from its study, not from the command line
STORED = ("lr", "weight_decay", "hidden", "dropout", "sampler", "pruner", "trials", "epochs")
STORED += ("subset", "validation", "optimizer", "activation", "batch_size", "data", "seed")


@click.command(
    cls=SectionedCommand,
    sections=SECTIONS,
    help=_(
        "Hyperparameter search, as the book's chapter 6 does by hand, on Optuna: each trial "
        "draws a learning rate and a weight decay (log-uniform), a hidden size and a dropout "
        "rate, trains a few epochs and is scored on a validation set held out of the training "
        "images (never the test set). Prints the trials best first and the `digitlab train` "
        "command for the best; writes search.json, search.png, Optuna's history and importance "
        "plots and best-config.json. The study lives in OUT/study.log: --resume OUT continues "
        "a search that was stopped. A number fixes a setting, LOW,HIGH draws it from a range."
    ),
)
@click.option(
    "--lr",
    type=Interval(low=1e-12),
    default=None,
    help=_(
        "Learning rates to draw from, log-uniformly  [default: the optimizer's default lr /50 "
        "to ×4; 0.01,2 for sgd]"
    ),
)
@click.option(
    "--weight-decay",
    type=Interval(),
    default=_SPACE.weight_decay,
    show_default="1e-08,0.001",
    help=_("Weight decays to draw from, log-uniformly; 0 for none."),
)
@click.option(
    "--hidden",
    type=Sizes(),
    default=_SPACE.hidden,
    show_default=",".join(map(str, _SPACE.hidden)),
    help=_("Sizes of the hidden layer to choose among."),
)
@click.option(
    "--dropout",
    type=Interval(high=0.99),
    default=_SPACE.dropout,
    show_default="0,0.5",
    help=_("Dropout rates to draw from, uniformly; 0 for none."),
)
@click.option(
    "--sampler",
    type=click.Choice(SAMPLERS),
    default="random",
    show_default=True,
    help=_("How settings are drawn: at random (the book), or TPE, near the best so far."),
)
@click.option(
    "--pruner",
    type=click.Choice(PRUNERS),
    default="none",
    show_default=True,
    help=_(
        "Stop hopeless trials early, judged by their validation accuracy after each epoch: "
        "below the median of the others, or by Hyperband's successive halving."
    ),
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=_("Seconds after which no new trial starts  [default: none]"),
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help=_("Trials run at once, each in its own process with one BLAS thread."),
)
@click.option(
    "--storage",
    default=None,
    help=_(
        "A database URL to keep the study in, shared by workers on several machines, each "
        "started with the same command (postgresql+psycopg://USER@HOST/DB)  "
        "[default: OUT/study.log]"
    ),
)
@click.option(
    "--study",
    default="digitlab-search",
    show_default=True,
    help=_("The study's name in the storage."),
)
@click.option(
    "--resume",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help=_(
        "Continue the search of this folder (after Ctrl+C, a crash or kill -9) with its own "
        "settings: no finished trial is lost or run again."
    ),
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help=_("Settings to try."),
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help=_("Epochs of each trial: enough to tell good settings from bad, not to finish."),
)
@click.option(
    "--subset",
    type=click.IntRange(min=2),
    default=10_000,
    show_default=True,
    help=_(
        "Training images used at most (the first ones), before the validation split; fewer "
        "is faster."
    ),
)
@click.option(
    "--validation",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help=_("Fraction of those images held out to score each trial."),
)
@click.option(
    "--optimizer",
    type=click.Choice(list(OPTIMIZERS)),
    default="sgd",
    show_default=True,
    help=_("The update rule of every trial."),
)
@activation_option()
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help=_("Samples per step."),
)
@data_option()
@seed_option(
    _(
        "Seed of the draws, the initial weights, the shuffling and the split: same seed, "
        "same search."
    )
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=_("Folder to write  [default: runs/search-DATE-TIME]"),
)
@progress_option(_("Progress bar over the trials  [default: on a terminal only]"))
def search(
    lr,
    weight_decay,
    hidden,
    dropout,
    sampler,
    pruner,
    time_limit,
    jobs,
    storage,
    study,
    resume,
    trials,
    epochs,
    subset,
    validation,
    optimizer,
    activation,
    batch_size,
    data,
    seed,
    out,
    progress,
) -> None:
    import json

    import numpy as np

    from digitlab import atomic
    from digitlab.datasets import load_dataset, to_inputs
    from digitlab.workflows.config import TrainConfig, command_line
    from digitlab.workflows.plots import plot_importances, plot_search, plot_search_history
    from digitlab.workflows.run import prepare_out_dir
    from digitlab.workflows.search import lr_range
    from digitlab.workflows.search import search as run_search
    from digitlab.workflows.study import STUDY_FILE, param_importances, stored_request

    if resume is not None:
        _refuse_options_a_resume_takes_from_its_study()
        out = resume
        request = stored_request(storage or out / STUDY_FILE, study)
        base = TrainConfig(**request["base"])
        space = SearchSpace(**{key: tuple(value) for key, value in request["space"].items()})
        trials, subset = request["trials"], request["samples"]
        sampler, pruner = request["sampler"], request["pruner"]
        data, epochs, validation = base.data, base.epochs, base.validation
    else:
        base = TrainConfig(
            data=data,
            activation=activation,
            optimizer=optimizer,
            validation=validation,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
        )
        space = SearchSpace(
            lr=lr if lr is not None else lr_range(optimizer),
            weight_decay=weight_decay,
            hidden=hidden,
            dropout=dropout,
        )
        out = prepare_out_dir(out or Path("runs") / f"search-{datetime.now():%Y%m%d-%H%M%S}")
    dataset = load_dataset(data, progress=progress is not False)
    # Only the training images reach the search: the test set stays unseen.
    x = to_inputs(dataset.x_train[:subset], base.dtype)
    t = dataset.t_train[:subset].astype(np.intp)
    click.echo(
        _(
            "{trials} trials of {epochs} epochs on {count:,} training images of {data}, {held:,} "
            "of them held out for validation"
        ).format(
            trials=trials,
            epochs=epochs,
            count=len(t),
            data=dataset.name,
            held=round(validation * len(t)),
        )
    )
    result = run_search(
        x,
        t,
        base,
        space,
        trials=trials,
        classes=len(dataset.classes),
        sampler=sampler,
        pruner=pruner,
        storage=storage or out / STUDY_FILE,
        study_name=study,
        jobs=jobs,
        time_limit=time_limit,
        resume=resume is not None,
        progress=progress,
    )
    if not result.trials:
        raise click.ClickException(
            _(
                "no trial finished (--time-limit too short?); run it again with --resume {out}."
            ).format(out=out)
        )
    result.save(out / "search.json")
    plot_search(result, out / "search.png")
    written = ["search.json", "search.png"]
    plot_search_history(result, out / "search-history.png")
    written.append("search-history.png")
    importances = param_importances(storage or out / STUDY_FILE, study)
    if importances:
        plot_importances(importances, out / "search-importance.png")
        written.append("search-importance.png")
    best = result.best
    full = best.config.changed(epochs=TrainConfig().epochs)
    atomic.write_text(out / "best-config.json", json.dumps(full.to_dict(), indent=1) + "\n")

    click.echo("")
    click.echo(result.table())
    click.echo("")
    click.echo(
        _("best: trial {number}, validation accuracy {accuracy:.2%} after {epochs} epochs").format(
            number=best.number, accuracy=best.val_acc, epochs=epochs
        )
    )
    click.echo(_("to train it fully ({epochs} epochs):").format(epochs=full.epochs))
    click.echo("  " + command_line(full))
    click.echo(_("or: digitlab train --config {path}").format(path=out / "best-config.json"))
    written.append("best-config.json")
    click.echo(_("wrote {files} to {folder}").format(files=", ".join(written), folder=out))


def _refuse_options_a_resume_takes_from_its_study() -> None:
    """--resume continues a search as it was asked for; a setting given beside it would be
    silently ignored, so it is refused by name."""
    context = click.get_current_context()
    given = [
        name
        for name in STORED
        if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(
            _("--resume continues the search with its own settings; drop {options}.").format(
                options=options
            )
        )
