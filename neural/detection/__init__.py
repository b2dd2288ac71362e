"""Object detection for the generalization experiment (Algorithm 5): a small CenterNet-style
detector, its training on clean images, and COCO's mean average precision (mAP@0.5 and
mAP@[0.5:0.95], checked against pycocotools). Data: :mod:`neural.data.detection`."""

from neural.detection.average_precision import (
    IOU_THRESHOLDS,
    ImageBoxes,
    MAPResult,
    box_iou,
    mean_average_precision,
)
from neural.detection.detector import CenterNetDetector, Detections, decode
from neural.detection.training import (
    DetectionScore,
    DetectorConfig,
    evaluate_detection,
    ground_truth,
    train_detector,
)

__all__ = [
    "IOU_THRESHOLDS",
    "CenterNetDetector",
    "DetectionScore",
    "Detections",
    "DetectorConfig",
    "ImageBoxes",
    "MAPResult",
    "box_iou",
    "decode",
    "evaluate_detection",
    "ground_truth",
    "mean_average_precision",
    "train_detector",
]
