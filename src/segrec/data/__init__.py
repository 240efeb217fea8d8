"""Files -> :class:`Dataset`: schemas, loaders with quarantine, synthetic world, cleaning, splits."""

from segrec.data._dataset import Dataset, empty_table
from segrec.data._quarantine import LoadReport, TableCounts
from segrec.data._registry import (
    DatasetSpec,
    available_loaders,
    load_dataset,
    parse_spec,
    register_loader,
)
from segrec.data._schema import EVENT_TYPES, SCHEMAS, TABLES, TEXT_KINDS

__all__ = [
    "EVENT_TYPES",
    "SCHEMAS",
    "TABLES",
    "TEXT_KINDS",
    "Dataset",
    "DatasetSpec",
    "LoadReport",
    "TableCounts",
    "available_loaders",
    "empty_table",
    "load_dataset",
    "parse_spec",
    "register_loader",
]
