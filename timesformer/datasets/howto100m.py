"""HowTo100M long-term task classification: minutes-long videos, clips from anywhere in them."""

from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.kinetics import Kinetics


@DATASET_REGISTRY.register()
class HowTo100M(Kinetics):
    """HowTo100M task classification (the TimeSformer paper's long-term modeling benchmark).

    Same files as Kinetics (``{train,val,test}.csv`` of ``path label`` lines, the
    label a task id). Train: one clip at a random position anywhere in the video
    (the decoder seeks, so a clip of a 10-minute video costs about as much as one
    of a 10-second video); with DATA.TRAIN_CROP_NUM_TEMPORAL K > 1, K such clips, each
    decoded after a seek of its own unless their spans overlap. Test:
    TEST.NUM_ENSEMBLE_VIEWS clips evenly spaced over the whole video, whose logits the
    test meter sums per video (the paper uses 48, 12, 6, 4 clips for 8, 32, 64, 96-frame
    inputs), each the center crop of the frames scaled to short side
    DATA.TRAIN_JITTER_SCALES[0] with 1 spatial crop.
    """
