"""Files -> :class:`Dataset`: schemas, loaders with quarantine, synthetic world, cleaning, splits."""

from segrec.data._clean import BotConfig, CleanConfig, CleaningReport, clean
from segrec.data._dataset import Dataset, empty_table
from segrec.data._labels import item_labels
from segrec.data._quarantine import LoadReport, TableCounts
from segrec.data._registry import (
    DatasetSpec,
    available_loaders,
    load_dataset,
    parse_spec,
    register_loader,
)
from segrec.data._schema import EVENT_TYPES, SCHEMAS, TABLES, TEXT_KINDS
from segrec.data._split import Split, leave_last_out, temporal_split
from segrec.data._wording import SHOP, Wording, text_noun, wording

__all__ = [
    "EVENT_TYPES",
    "SCHEMAS",
    "SHOP",
    "TABLES",
    "TEXT_KINDS",
    "BotConfig",
    "CleanConfig",
    "CleaningReport",
    "Dataset",
    "DatasetSpec",
    "LoadReport",
    "Split",
    "TableCounts",
    "Wording",
    "available_loaders",
    "clean",
    "empty_table",
    "item_labels",
    "leave_last_out",
    "load_dataset",
    "parse_spec",
    "register_loader",
    "temporal_split",
    "text_noun",
    "wording",
]
