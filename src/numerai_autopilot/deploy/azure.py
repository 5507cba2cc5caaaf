"""Azure Container Apps Job set-up: the Bicep's parameters and the ``az`` commands around it.

``plan_azure(params, ...)`` returns the whole set-up as steps; the CLI prints them as a bash
script, or runs them one by one (``--apply``). The Bicep ships inside the package (files.py;
deploy/azure/ in the repository is a copy); its defaults and these parameters describe the same
job (a test compares them field by field through Azure's own SDK models).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ConfigError
from .script import FILE, Step, render_script
from .slots import RECOMMENDED
from .triggers import RUN_DEADLINE_SECONDS

# The set-up's steps (script.py) are part of this module's API.
__all__ = ["FILE", "SECRET_NAMES", "AzureParams", "Step", "plan_azure", "render_script"]

SECRET_NAMES = {"public_id": "numerai-public-id", "secret_key": "numerai-secret-key"}


@dataclass(frozen=True)
class AzureParams:
    """What a user chooses; everything else is derived or fixed in the Bicep."""

    resource_group: str = "numerai-autopilot"
    location: str = "westeurope"
    name: str = "numerai-autopilot"
    image: str = ""  # empty: build the image into the registry the Bicep creates
    image_tag: str = __version__
    cron_expression: str = RECOMMENDED.cron()
    replica_timeout: int = RUN_DEADLINE_SECONDS
    replica_retry_limit: int = 1
    cpu: float = 1.0
    workers: int = 2
    extras: str = "models,notify"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", self.name):
            raise ConfigError(
                f"--name {self.name!r}: 3-24 lowercase letters, digits and hyphens, "
                "starting with a letter"
            )
        # Consumption profile: 0.25 to 4 vCPU in steps of 0.25, memory fixed at 2 GiB a vCPU.
        if not (0.25 <= self.cpu <= 4 and (self.cpu * 4).is_integer()):
            raise ConfigError(f"--cpu {self.cpu}: choose 0.25 to 4 in steps of 0.25")
        if not 60 <= self.replica_timeout <= 86400:
            raise ConfigError("replica timeout must be 60 s to 24 h")
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")

    @property
    def memory(self) -> str:
        return f"{self.cpu * 2:g}Gi"

    @property
    def memory_gib(self) -> float:
        return self.cpu * 2

    @property
    def cpu_text(self) -> str:
        return f"{self.cpu:.2f}".rstrip("0").rstrip(".") if self.cpu % 1 else f"{self.cpu:.1f}"

    def parameters(self) -> dict[str, Any]:
        """The deployment parameters file (ARM JSON) for main.bicep."""
        values: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "imageTag": self.image_tag,
            "cronExpression": self.cron_expression,
            "replicaTimeout": self.replica_timeout,
            "replicaRetryLimit": self.replica_retry_limit,
            "cpu": self.cpu_text,
            "memory": self.memory,
            "workers": self.workers,
        }
        return {
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
            "deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {k: {"value": v} for k, v in values.items()},
        }

    def parameters_text(self) -> str:
        return json.dumps(self.parameters(), indent=2) + "\n"


def plan_azure(
    params: AzureParams,
    *,
    parameters_file: Path | str,
    models_dir: Path,
    template: Path,
    source: Path = Path(),
) -> list[Step]:
    """Every command of the set-up, in order (``template``: main.bicep; ``source``: the folder
    the image is built from). The API key's two halves are read from files (``Step.secret``):
    their values never appear on a command line or in the script."""
    rg, bicep = params.resource_group, str(template)
    deploy = ("az", "deployment", "group", "create", "--resource-group", rg)
    common = ("--template-file", bicep, "--parameters", f"@{parameters_file}")
    outputs = ("--query", "properties.outputs.{}.value", "--output", "tsv")
    steps = [
        Step(
            "Providers Container Apps needs (once per subscription)",
            ("az", "provider", "register", "--namespace", "Microsoft.App", "--wait"),
        ),
        Step(
            "",
            (
                "az",
                "provider",
                "register",
                "--namespace",
                "Microsoft.OperationalInsights",
                "--wait",
            ),
        ),
        Step(
            "Who deploys: gets the right to write the vault's secrets",
            ("az", "ad", "signed-in-user", "show", "--query", "id", "--output", "tsv"),
            capture="DEPLOYER",
        ),
        Step(
            "Resource group", ("az", "group", "create", "--name", rg, "--location", params.location)
        ),
        Step(
            "Infrastructure without the job: logs, environment, identity, vault, registry, storage",
            (
                *deploy,
                "--name",
                f"{params.name}-infra",
                *common,
                "deployJob=false",
                "deployerPrincipalId=$DEPLOYER",
                "--output",
                "none",
            ),
        ),
    ]
    for var, out in (
        ("VAULT", "keyVaultName"),
        ("STORAGE", "storageAccountName"),
        ("REGISTRY", "registryName"),
    ):
        q = list(outputs)
        q[1] = q[1].format(out)
        steps.append(
            Step(
                "",
                (
                    "az",
                    "deployment",
                    "group",
                    "show",
                    "--resource-group",
                    rg,
                    "--name",
                    f"{params.name}-infra",
                    *q,
                ),
                capture=var,
            )
        )
    for key, secret in SECRET_NAMES.items():
        steps.append(
            Step(
                "The API key into Key Vault, read from files (role assignments can take a minute)"
                if key == "public_id"
                else "",
                (
                    "az",
                    "keyvault",
                    "secret",
                    "set",
                    "--vault-name",
                    "$VAULT",
                    "--name",
                    secret,
                    "--file",
                    FILE,
                    "--output",
                    "none",
                ),
                secret=key,
                retries=5,
            )
        )
    steps += [
        Step(
            "The storage key, for the upload only (never printed)",
            (
                "az",
                "storage",
                "account",
                "keys",
                "list",
                "--resource-group",
                rg,
                "--account-name",
                "$STORAGE",
                "--query",
                "[0].value",
                "--output",
                "tsv",
            ),
            capture="AZURE_STORAGE_KEY",
        ),
        Step(
            "Models (models.toml and artifacts) to the Azure Files share 'models'",
            (
                "az",
                "storage",
                "file",
                "upload-batch",
                "--account-name",
                "$STORAGE",
                "--destination",
                "models",
                "--source",
                str(models_dir),
                "--output",
                "none",
            ),
            env={"AZURE_STORAGE_KEY": "$AZURE_STORAGE_KEY"},
        ),
    ]
    if not params.image:
        steps.append(
            Step(
                "The image, built in the registry from this checkout (no local Docker needed)",
                (
                    "az",
                    "acr",
                    "build",
                    "--registry",
                    "$REGISTRY",
                    "--image",
                    f"numerai-autopilot:{params.image_tag}",
                    "--build-arg",
                    f"EXTRAS={params.extras}",
                    str(source),
                ),
            )
        )
    steps += [
        Step(
            "The job itself, on its round-window schedule",
            (
                *deploy,
                "--name",
                params.name,
                *common,
                "deployJob=true",
                "deployerPrincipalId=$DEPLOYER",
                "--output",
                "none",
            ),
        ),
        Step(
            "A first run by hand, then its status (logs: Log Analytics, table "
            "ContainerAppConsoleLogs_CL)",
            (
                "az",
                "containerapp",
                "job",
                "start",
                "--resource-group",
                rg,
                "--name",
                f"caj-{params.name}",
                "--output",
                "none",
            ),
        ),
        Step(
            "",
            (
                "az",
                "containerapp",
                "job",
                "execution",
                "list",
                "--resource-group",
                rg,
                "--name",
                f"caj-{params.name}",
                "--output",
                "table",
            ),
        ),
    ]
    return steps
