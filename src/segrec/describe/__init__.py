"""Segmentation -> :class:`SegmentProfiles`: keywords, names, rules, privacy.

>>> from segrec.describe import describe_segments  # doctest: +SKIP
>>> profiles = describe_segments(ds, segmentation, features)  # doctest: +SKIP
>>> profiles.save("out/")  # profiles.json + segments.md  # doctest: +SKIP
"""

from segrec.describe._artifact import SegmentProfiles, privacy_statement
from segrec.describe._behavior import interpretable_table, item_categories
from segrec.describe._describer import DescribeConfig, SegmentDescriber, describe_segments
from segrec.describe._keywords import class_tfidf, top_keywords
from segrec.describe._llm import LLMConfig, LLMNamer
from segrec.describe._names import behaviour_noun, deterministic_name, unique_names
from segrec.describe._privacy import PrivacyAccountant, enforce_min_size
from segrec.describe._rules import RulesConfig, SegmentRules

__all__ = [
    "DescribeConfig",
    "LLMConfig",
    "LLMNamer",
    "PrivacyAccountant",
    "RulesConfig",
    "SegmentDescriber",
    "SegmentProfiles",
    "SegmentRules",
    "behaviour_noun",
    "class_tfidf",
    "describe_segments",
    "deterministic_name",
    "enforce_min_size",
    "interpretable_table",
    "item_categories",
    "privacy_statement",
    "top_keywords",
    "unique_names",
]
