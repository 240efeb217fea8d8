"""UserFeatures -> :class:`Segmentation`: clusterers, k selection, stability, classifiers.

>>> from segrec.segment import get_segmenter, available_segmenters
>>> "kmeans" in available_segmenters()
True
"""

from segrec.segment._base import (
    BaseSegmenter,
    Segmenter,
    SegmenterConfig,
    available_segmenters,
    get_segmenter,
    register_segmenter,
)
from segrec.segment._density import (
    DBSCANConfig,
    DBSCANSegmenter,
    HDBSCANConfig,
    HDBSCANSegmenter,
)
from segrec.segment._eps import choose_eps
from segrec.segment._fuse import FittedFusion, make_fusion
from segrec.segment._gnn import GNNSegmenterAdapter
from segrec.segment._hier import AgglomerativeConfig, AgglomerativeSegmenter
from segrec.segment._kmeans import (
    KMeansConfig,
    KMeansSegmenter,
    MiniBatchKMeansSegmenter,
    select_k,
)
from segrec.segment._quality import bootstrap_stability, external_agreement, internal_quality
from segrec.segment._segmentation import SegmentAssignment, Segmentation
from segrec.segment._stable_ids import align_to_previous, match_segment_ids
from segrec.segment._state import segmenter_from_state, segmenter_to_state
from segrec.segment._supervised import (
    ForestSegmenter,
    SupervisedConfig,
    TreeSegmenter,
    read_labels,
)

for _cls in (
    KMeansSegmenter,
    MiniBatchKMeansSegmenter,
    HDBSCANSegmenter,
    DBSCANSegmenter,
    AgglomerativeSegmenter,
    TreeSegmenter,
    ForestSegmenter,
    GNNSegmenterAdapter,
):
    register_segmenter(_cls.name, _cls)

__all__ = [
    "AgglomerativeConfig",
    "AgglomerativeSegmenter",
    "BaseSegmenter",
    "DBSCANConfig",
    "DBSCANSegmenter",
    "FittedFusion",
    "ForestSegmenter",
    "GNNSegmenterAdapter",
    "HDBSCANConfig",
    "HDBSCANSegmenter",
    "KMeansConfig",
    "KMeansSegmenter",
    "MiniBatchKMeansSegmenter",
    "SegmentAssignment",
    "Segmentation",
    "Segmenter",
    "SegmenterConfig",
    "SupervisedConfig",
    "TreeSegmenter",
    "align_to_previous",
    "available_segmenters",
    "bootstrap_stability",
    "choose_eps",
    "external_agreement",
    "get_segmenter",
    "internal_quality",
    "make_fusion",
    "match_segment_ids",
    "read_labels",
    "register_segmenter",
    "segmenter_from_state",
    "segmenter_to_state",
    "select_k",
]
