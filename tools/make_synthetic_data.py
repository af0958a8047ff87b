"""Generate the embedded synthetic UDA benchmark: a GTA-like source and a Cityscapes-like target.

    python tools/make_synthetic_data.py                      # data/synthetic, 600 + 600 + 150 images, 128x128
    python tools/make_synthetic_data.py --shift 0.5 --nproc 2 --force
    python tools/make_synthetic_data.py --preview /tmp/synth_preview.png   # only a preview grid

What it is: a deterministic generator of simple street scenes, labelled with Cityscapes label ids
and written in the folder layouts and file formats of the real data sets, so that the real
converters, data sets, rare-class sampling, training and evaluation run unchanged on a CPU:

- ``<out>/gta/images/<5 digits>.png`` (RGB) and ``<out>/gta/labels/<5 digits>.png`` (palette PNG of
  label ids, as GTA ships them);
- ``<out>/cityscapes/leftImg8bit/{train,val}/<city>/<city>_000000_<6 digits>_leftImg8bit.png`` and
  ``<out>/cityscapes/gtFine/{train,val}/<city>/<...>_gtFine_labelIds.png`` (grey label ids);
- depth maps in the CDDA layouts, ``<out>/gta/depth_any/<5 digits>.png`` and
  ``<out>/cityscapes/depth_any/{train,val}/<city>/<...>_depth.png``: 8-bit grey PNGs like Depth Anything V2's
  (inverse depth, per image min-max to 0..255, near = bright) from the scene geometry (see :func:`disparity_map`);
- fog and rain renderings of every target image in the Foggy / Rain Cityscapes layouts (``tools/synthetic_weather.py``,
  from the scene's depth in metres, :func:`scene_depth`):
  ``<out>/cityscapes/leftImg8bit_foggy/{train,val}/<city>/<...>_leftImg8bit_foggy_beta_<β>.png`` for β 0.005, 0.01
  and 0.02, and one rain setting per image (level and streak pattern cycling with the index), ``<out>/cityscapes/
  leftImg8bit_rain/{train,val}/<city>/<...>_leftImg8bit_rain_alpha_<α>_beta_<β>_dropsize_<d>_pattern_<p>.png``;
- a second source style in the Synscapes layout (DDB's multi-source setting): ``<out>/synscapes/img/rgb/<n>.png``
  and ``<out>/synscapes/img/class/<n>.png`` (grey label ids), one per source image, scenes with the target's layout
  statistics (as Synscapes mimics Cityscapes) rendered halfway between the two palettes with soft lighting only;
- a second target style in the Mapillary Vistas v1.2 layout (DDB's multi-target setting), at twice the size:
  ``<out>/mapillary/config_v1.2.json`` (the 66 Vistas classes), ``<out>/mapillary/{training,validation}/images/
  <key>.jpg`` and ``.../v1.2/labels/<key>.png`` (palette PNGs of Vistas class indices), as many as target images,
  scenes of their own layout statistics (more greenery, other streets) in the target palette photographed more
  strongly, with a warm colour cast;
- then the real converters (``tools/convert_datasets/{gta,cityscapes}.py``) write the
  ``*_labelTrainIds.png`` files, the RCS statistics and the Cityscapes split lists, and ``synscapes.py``,
  ``mapillary2cityscape.py --train_id`` and ``mapillary_resize.py`` those of the two DDB domains
  (``<out>/mapillary/cityscapes_trainIdLabel/{train,val}/label/`` and the half-resolution ``<out>/mapillary/half/``);
- ``<out>/generator.json`` records the settings (seed, size, counts, shift, version).

Both domains draw their layouts from the same sampler (a pinhole camera over a flat street: sky,
buildings in perspective, road to a vanishing point, sidewalks, walls / fences, poles with signs
and lights, trees, terrain, cars, trucks, buses, people, riders on bicycles or motorcycles) with
different class frequencies (the target has more cars and fewer people; every fifth source image has
a truck or a bus, so even small sets have a rare class), and differ in appearance:

- source ("rendered"): flat saturated colours per class, small per-instance variation, sharp edges;
- target ("photographed"): another palette (each class colour moved towards a duller, photo-like
  one), larger per-instance variation, so that some class colour ranges overlap (building / wall,
  road / sidewalk, vegetation / terrain under texture and light), texture noise, illumination
  gradients and shadows, haze towards the horizon, per-image colour casts, blur and sensor noise.

``--shift`` scales the appearance difference: 0 renders the target with the source look (only the
layout statistics differ), 1 is the default look, up to 2 exaggerates the photographic effects
(the palette change stops at 1). Every target class colour stays at most 0.8 times as far from its
own source colour as from any other class's, so no class takes over another's look.

What it is not: a stand-in for the real benchmarks. Scenes are cartoons at low resolution, objects
are drawn at least 16 px wide (4 px at the decoder's 1/4 resolution; less for images below 128 px)
so they are stylised rather than to scale. There are no trains (train id 16 never occurs) and no
void pixels. At 128x128 a rare class covers hundreds, not thousands of pixels per image, so rare
class sampling needs a ``min_pixels`` far below DAFormer's 3000. The numbers measure whether the
pipeline adapts across a controlled appearance shift, not how DAFormer does on GTA to Cityscapes.

Every image is drawn from its own seed (``--seed``, domain, split and index), so the files do not
depend on ``--nproc``. The data set is built in a temporary folder next to ``--out-dir`` and renamed
into place at the end, so an interrupted run leaves no half data set.
"""
import argparse
import importlib.util
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

from cityscapesscripts.helpers.labels import id2label  # noqa: E402

from mmseg.datasets.conversion import save_class_stats, track_parallel  # noqa: E402
from tools.synthetic_weather import FOG_BETAS, RAIN_LEVELS, RAIN_PATTERNS, fog, rain, rain_name_part  # noqa: E402

VERSION = 1
SIZE_DIVISOR = 32  # the model's output stride
MAX_SHIFT = 2.0
# Objects are at least this many pixels wide at 128 px (4 px at the decoder's 1/4 resolution).
MIN_OBJECT_PX = 16
D_NEAR = 4.0  # metres from the camera to the ground seen at the bottom image row
TRAIN_CITIES = ('synthtown', 'synthville', 'synthburg')
VAL_CITIES = ('synthfurt', )
SOURCE, TARGET = 'source', 'target'
# DDB's second source (Synscapes layout) and second target (Mapillary layout); their images have their own seeds
SYNSCAPES, MAPILLARY = 'synscapes', 'mapillary'
DOMAIN_SEED_IDS = {SOURCE: 0, TARGET: 1, SYNSCAPES: 2, MAPILLARY: 3}
RARE_EVERY = 5

# Cityscapes label ids
ROAD, SIDEWALK, BUILDING, WALL, FENCE = 7, 8, 11, 12, 13
POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY = 17, 19, 20, 21, 22, 23
PERSON, RIDER, CAR, TRUCK, BUS, MOTORCYCLE, BICYCLE = 24, 25, 26, 27, 28, 32, 33
LABEL_IDS = (ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY, PERSON, RIDER,
             CAR, TRUCK, BUS, MOTORCYCLE, BICYCLE)

# RGB per label id. Source: flat, saturated, well apart ("rendered").
SOURCE_PALETTE: Dict[int, Tuple[int, int, int]] = {
    ROAD: (110, 90, 130), SIDEWALK: (230, 160, 200), BUILDING: (210, 130, 60), WALL: (165, 165, 40),
    FENCE: (120, 200, 190), POLE: (250, 240, 70), LIGHT: (255, 110, 0), SIGN: (0, 220, 255),
    VEGETATION: (40, 160, 30), TERRAIN: (160, 230, 80), SKY: (80, 170, 255), PERSON: (235, 20, 50),
    RIDER: (255, 0, 200), CAR: (20, 30, 190), TRUCK: (0, 110, 110), BUS: (140, 60, 255),
    MOTORCYCLE: (120, 10, 40), BICYCLE: (150, 80, 10),
}
# Target: duller "photographed" colours, each moved from its source colour towards a photo-like
# colour only so far that it stays at most 0.8 times as far from its own source colour as from any
# other class's source colour. Building / wall, road / sidewalk, vegetation / terrain and the vehicle
# ranges overlap once jitter, texture and lighting are added.
TARGET_PALETTE: Dict[int, Tuple[int, int, int]] = {
    ROAD: (105, 98, 112), SIDEWALK: (176, 140, 161), BUILDING: (170, 126, 88), WALL: (152, 143, 84),
    FENCE: (124, 159, 149), POLE: (218, 208, 90), LIGHT: (222, 108, 18), SIGN: (33, 197, 228),
    VEGETATION: (75, 125, 60), TERRAIN: (144, 189, 86), SKY: (118, 178, 239), PERSON: (188, 54, 73),
    RIDER: (201, 51, 166), CAR: (53, 60, 157), TRUCK: (52, 114, 110), BUS: (130, 84, 202),
    MOTORCYCLE: (115, 55, 65), BICYCLE: (140, 100, 60),
}
RECOGNISABLE_RATIO = 0.8
# Target texture strength (grey level std at shift 1) per label id; 8 for the others.
TEXTURE = {VEGETATION: 26, TERRAIN: 20, ROAD: 11, SIDEWALK: 11, BUILDING: 13, FENCE: 12, SKY: 4}
# Fixed colours shared by both domains (tyres, lamps, tail lights).
TYRE, TAIL_LIGHT = (25, 25, 28), (200, 20, 20)
LAMPS = ((220, 30, 20), (230, 170, 20), (30, 200, 60))


@dataclass(frozen=True)
class LayoutStats:
    """Layout and class-frequency parameters of one domain (the sampler is the same for both)."""

    horizon: Tuple[float, float]  # horizon row as a fraction of the height
    view_m: Tuple[float, float]  # width in metres of the ground at the bottom row (zoom)
    road_width: Tuple[float, float]  # metres
    cars: float  # mean number of driving cars
    parked: float  # mean number of parked cars
    persons: float
    rider_p: float
    motorcycle_share: float  # share of riders on a motorcycle
    truck_p: float
    bus_p: float
    poles: float
    trees: float
    terrain_p: float  # per side: a grass strip between sidewalk and buildings
    verge_p: float  # per side: a grass verge between road and sidewalk
    wall_p: float  # per side
    fence_p: float
    hedge_p: float
    gap_p: float  # per building slot: a gap with trees instead


SOURCE_STATS = LayoutStats(horizon=(0.36, 0.48), view_m=(4.5, 6.5), road_width=(6.0, 11.0), cars=1.2, parked=0.6,
                           persons=1.8, rider_p=0.35, motorcycle_share=0.35, truck_p=0.3, bus_p=0.25, poles=1.0,
                           trees=1.4, terrain_p=0.5, verge_p=0.2, wall_p=0.25, fence_p=0.25, hedge_p=0.15, gap_p=0.2)
TARGET_STATS = LayoutStats(horizon=(0.33, 0.45), view_m=(4.5, 6.5), road_width=(6.0, 10.0), cars=1.8, parked=1.6,
                           persons=0.8, rider_p=0.25, motorcycle_share=0.15, truck_p=0.15, bus_p=0.15, poles=1.6,
                           trees=2.2, terrain_p=0.65, verge_p=0.35, wall_p=0.2, fence_p=0.3, hedge_p=0.35, gap_p=0.3)
# Mapillary Vistas: street views from around the world (more greenery, narrower roads, fewer buildings)
MAPILLARY_STATS = LayoutStats(horizon=(0.38, 0.5), view_m=(4.0, 6.0), road_width=(5.0, 9.0), cars=1.0, parked=0.8,
                              persons=1.0, rider_p=0.3, motorcycle_share=0.5, truck_p=0.2, bus_p=0.1, poles=1.2,
                              trees=2.8, terrain_p=0.8, verge_p=0.5, wall_p=0.15, fence_p=0.35, hedge_p=0.4, gap_p=0.45)
# Synscapes renders Cityscapes-like street layouts
STATS = {SOURCE: SOURCE_STATS, TARGET: TARGET_STATS, SYNSCAPES: TARGET_STATS, MAPILLARY: MAPILLARY_STATS}

# A drawing operation: (kind, label id, instance, shade or fixed RGB, geometry, written into the label map).
Op = Tuple[str, int, int, Any, Any, bool]


@dataclass
class Layout:
    """A sampled scene: drawing operations back to front and the label id of each instance."""

    height: int
    width: int
    horizon: float
    ops: List[Op]
    instances: List[int]


@dataclass(frozen=True)
class Settings:
    """Everything the generated files depend on (recorded in ``generator.json``)."""

    seed: int = 0
    height: int = 128
    width: int = 128
    num_source: int = 600
    num_target_train: int = 600
    num_val: int = 150
    shift: float = 1.0

    def to_json(self) -> Dict[str, Any]:
        """The ``generator.json`` content."""
        return dict(generator='tools/make_synthetic_data.py', version=VERSION, seed=self.seed,
                    size=[self.height, self.width], num_source=self.num_source,
                    num_target_train=self.num_target_train, num_val=self.num_val, shift=float(self.shift))


def min_object_px(height: int, width: int) -> int:
    """Smallest object width in pixels: 16 at 128 px and above, proportionally less below."""
    return max(4, int(round(MIN_OBJECT_PX * min(1.0, min(height, width) / 128))))


class Camera:
    """Pinhole camera over a flat street; world metres (X right, Y up, D ahead) to pixels."""

    def __init__(self, height: int, width: int, horizon: float, x_vanish: float, view_m: float) -> None:
        self.y_h, self.x_v = horizon, x_vanish
        pixels_per_m = width / view_m  # at D_NEAR
        self.f = pixels_per_m * D_NEAR
        self.cam_h = (height - horizon) / pixels_per_m

    def project(self, x: Any, y: Any, d: Any) -> Tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates of world points."""
        d = np.asarray(d, np.float64)
        return self.x_v + self.f * np.asarray(x) / d, self.y_h + self.f * (self.cam_h - np.asarray(y)) / d

    def poly(self, points: Sequence[Tuple[float, float, float]]) -> np.ndarray:
        """int32 polygon of projected (X, Y, D) points."""
        pts = np.asarray(points, np.float64)
        xs, ys = self.project(pts[:, 0], pts[:, 1], pts[:, 2])
        return np.clip(np.round(np.stack([xs, ys], 1)), -1e5, 1e5).astype(np.int32)

    def scale(self, d: float) -> float:
        """Pixels per metre at depth ``d``."""
        return self.f / d


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.round(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])).astype(np.int32)


class SceneBuilder:
    """Samples one street scene as drawing operations (painter's order)."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, stats: LayoutStats,
                 rare: bool = False) -> None:
        self.rng, self.h, self.w, self.stats, self.rare = rng, height, width, stats, rare
        self.min_px = min_object_px(height, width)
        self.instances: List[int] = []
        self.ops: List[Op] = []

    # -- helpers ---------------------------------------------------------------------------
    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def depth(self, x: float, lo: float, hi: float, half_px: float = 0.0) -> Optional[float]:
        """A depth in [lo, hi] at which lateral position ``x`` is inside the image, or None."""
        room = (self.cam.x_v if x < 0 else self.w - self.cam.x_v) - half_px
        if room <= 1:
            return None
        lo = max(lo, self.cam.f * abs(x) / room)
        return self.u(lo, hi) if lo < hi else None

    def new(self, label: int) -> int:
        self.instances.append(label)
        return len(self.instances) - 1

    @staticmethod
    def poly(ops: List[Op], label: int, inst: int, pts: np.ndarray, shade: Any = 1.0, labelled: bool = True) -> None:
        ops.append(('poly', label, inst, shade, pts, labelled))

    @staticmethod
    def circle(ops: List[Op], label: int, inst: int, cx: float, cy: float, r: float, shade: Any = 1.0,
               labelled: bool = True) -> None:
        ops.append(('circle', label, inst, shade, (int(round(cx)), int(round(cy)), max(1, int(round(r)))), labelled))

    @staticmethod
    def ellipse(ops: List[Op], label: int, inst: int, cx: float, cy: float, ax: float, ay: float,
                shade: Any = 1.0, labelled: bool = True) -> None:
        geom = (int(round(cx)), int(round(cy)), max(1, int(round(ax))), max(1, int(round(ay))))
        ops.append(('ellipse', label, inst, shade, geom, labelled))

    @staticmethod
    def line(ops: List[Op], label: int, inst: int, p0: Tuple[float, float], p1: Tuple[float, float],
             thickness: float, shade: Any = 1.0, labelled: bool = True) -> None:
        geom = (int(round(p0[0])), int(round(p0[1])), int(round(p1[0])), int(round(p1[1])),
                max(1, int(round(thickness))))
        ops.append(('line', label, inst, shade, geom, labelled))

    def ground_strip(self, label: int, inst: int, x0: float, x1: float, d0: float = 0.5, d1: float = 5000.0,
                     shade: Any = 1.0, labelled: bool = True) -> None:
        self.poly(self.ops, label, inst, self.cam.poly([(x0, 0, d0), (x1, 0, d0), (x1, 0, d1), (x0, 0, d1)]),
                  shade, labelled)

    def box(self, ops: List[Op], label: int, inst: int, x0: float, x1: float, y0: float, y1: float, d0: float,
            d1: float, side_shade: float = 0.78, top_shade: float = 0.9) -> None:
        """A box seen from the camera: visible side face, top face, then the near (rear) face."""
        cam = self.cam
        if x0 > 0 or x1 < 0:
            xs = x0 if x0 > 0 else x1
            self.poly(ops, label, inst, cam.poly([(xs, y0, d0), (xs, y1, d0), (xs, y1, d1), (xs, y0, d1)]),
                      side_shade)
        if y1 < cam.cam_h:
            self.poly(ops, label, inst, cam.poly([(x0, y1, d0), (x1, y1, d0), (x1, y1, d1), (x0, y1, d1)]),
                      top_shade)
        self.poly(ops, label, inst, cam.poly([(x0, y0, d0), (x1, y0, d0), (x1, y1, d0), (x0, y1, d0)]))

    # -- scene -----------------------------------------------------------------------------
    def build(self) -> Layout:
        """Sample the scene."""
        st, h, w = self.stats, self.h, self.w
        self.horizon = h * self.u(*st.horizon)
        self.cam = Camera(h, w, self.horizon, w * (0.5 + self.u(-0.12, 0.12)), self.u(*st.view_m))
        road_w = self.u(*st.road_width)
        self.road_l = road_w * self.u(0.35, 0.65)
        self.road_r = road_w - self.road_l
        self.n_lanes = max(2, int(round(road_w / 3.2)))
        self.sw = (self.u(2.0, 4.5), self.u(2.0, 4.5))
        # grass verges between road and sidewalk; the sidewalks start at walk_x
        self.verge = tuple(self.u(1.0, 2.5) if self.rng.random() < st.verge_p else 0.0 for _ in range(2))
        self.walk_x = (-(self.road_l + self.verge[0]), self.road_r + self.verge[1])
        self.terrain = tuple(self.u(2.0, 6.0) if self.rng.random() < st.terrain_p else 0.0 for _ in range(2))
        self.curb_x = (self.walk_x[0] - self.sw[0], self.walk_x[1] + self.sw[1])  # outer sidewalk edges
        self.facade_x = (self.curb_x[0] - self.terrain[0], self.curb_x[1] + self.terrain[1])
        self.d_end = self.u(45.0, 90.0)

        self.poly(self.ops, SKY, self.new(SKY), _rect(-1, -1, w + 1, h + 1))
        self.poly(self.ops, TERRAIN, self.new(TERRAIN), _rect(-1, math.floor(self.horizon), w + 1, h + 1))
        road = self.new(ROAD)
        self.ground_strip(ROAD, road, -self.road_l, self.road_r)
        for side, sign in ((0, -1), (1, 1)):
            inner = self.walk_x[side]
            walk = self.new(SIDEWALK)
            self.ground_strip(SIDEWALK, walk, inner, inner + sign * self.sw[side])
            self.ground_strip(SIDEWALK, walk, inner, inner + sign * 0.2, shade=0.75, labelled=False)  # curb
        self.lane_markings(road)
        self.back_row()
        for side in (0, 1):
            self.facades(side)
        behind: List[Tuple[float, List[Op]]] = []
        front: List[Tuple[float, List[Op]]] = []
        for _ in range(self.rng.poisson(st.trees)):
            side = int(self.rng.integers(2))
            in_terrain = self.terrain[side] > 0 and self.rng.random() < 0.6
            if in_terrain:
                x = self.facade_x[side] - (1 if side else -1) * self.terrain[side] * self.u(0.3, 0.7)
            else:
                x = self.curb_x[side] - (1 if side else -1) * 0.7
            d = self.depth(x, D_NEAR + 1, 40)
            if d is not None:
                (behind if in_terrain else front).append(self.tree(x, d))
        for side in (0, 1):
            self.side_barrier(side)
        for _ in range(self.rng.poisson(st.poles)):
            front.append(self.pole())
        for _ in range(self.rng.poisson(st.persons)):
            front.append(self.person())
        front = [item for item in front if item[1]]
        if self.rng.random() < st.rider_p:
            front.append(self.rider(self.rng.random() < st.motorcycle_share))
        front.extend(self.vehicles())
        for objects in (behind, front):
            for _, ops in sorted(objects, key=lambda item: -item[0]):
                self.ops.extend(ops)
        return Layout(h, w, self.horizon, self.ops, self.instances)

    def lane_markings(self, road: int) -> None:
        lane_w = (self.road_l + self.road_r) / self.n_lanes
        phase = self.u(0, 9)
        for k in range(1, self.n_lanes):
            x = -self.road_l + k * lane_w
            for d in np.arange(D_NEAR - 3 + phase, self.d_end, 9.0):
                self.ground_strip(ROAD, road, x - 0.08, x + 0.08, d, d + 3, shade=2.1, labelled=False)

    def back_row(self) -> None:
        """Buildings and trees across the far end of the street, leaving the road open."""
        cam = self.cam
        for depth, gap in ((self.d_end * 2.5, False), (self.d_end, True)):
            x = -60.0
            while x < 60:
                x1 = x + self.u(6, 16)
                if gap and x1 > -self.road_l and x < self.road_r:
                    x = self.road_r
                    continue
                if self.rng.random() < 0.75:
                    inst = self.new(BUILDING)
                    top = self.u(6, 25)
                    self.poly(self.ops, BUILDING, inst, cam.poly([(x, 0, depth), (x1, 0, depth), (x1, top, depth),
                                                                  (x, top, depth)]))
                else:
                    inst = self.new(VEGETATION)
                    s = cam.scale(depth)
                    cx, cy = cam.project((x + x1) / 2, self.u(3, 6), depth)
                    self.circle(self.ops, VEGETATION, inst, cx, cy, (x1 - x) / 2 * s)
                x = x1

    def facades(self, side: int) -> None:
        """Building fronts along one side, near to far sampled, drawn far to near."""
        cam, fx = self.cam, self.facade_x[side]
        out = -1.0 if side == 0 else 1.0
        segments = []
        d = 1.0
        while d < self.d_end:
            if self.rng.random() < self.stats.gap_p:
                length = self.u(5, 15)
                segments.append(('gap', d, min(d + length, self.d_end), 0.0))
            else:
                length = self.u(8, 30)
                segments.append(('building', d, min(d + length, self.d_end), self.u(6, 22)))
            d += length
        for kind, d0, d1, top in reversed(segments):
            if kind == 'gap':
                for _ in range(int(self.rng.integers(0, 3))):
                    self.ops.extend(self.tree(fx + out * self.u(1, 4), self.u(d0, d1), big=True)[1])
                continue
            inst = self.new(BUILDING)
            # the near end wall (seen through a gap or above a lower building), then the front
            self.poly(self.ops, BUILDING, inst, cam.poly([(fx, 0, d0), (fx + out * 12, 0, d0), (fx + out * 12, top, d0),
                                                          (fx, top, d0)]), 0.8)
            self.poly(self.ops, BUILDING, inst, cam.poly([(fx, 0, d0), (fx, top, d0), (fx, top, d1), (fx, 0, d1)]))
            floor = 1.2
            while floor + 1.6 < top - 0.5:
                for dw in np.arange(d0 + 1.2, d1 - 1.8, 3.5):
                    pts = cam.poly([(fx, floor, dw), (fx, floor + 1.6, dw), (fx, floor + 1.6, dw + 1.4),
                                    (fx, floor, dw + 1.4)])
                    if abs(pts[0, 0] - pts[2, 0]) >= 2 and abs(pts[0, 1] - pts[1, 1]) >= 2:
                        self.poly(self.ops, BUILDING, inst, pts, 0.55, labelled=False)
                floor += 3.0

    def side_barrier(self, side: int) -> None:
        """Maybe a wall, a fence or a hedge along the outer edge of one sidewalk."""
        st = self.stats
        r = self.rng.random()
        if r < st.wall_p:
            label, top = WALL, self.u(0.8, 1.8)
        elif r < st.wall_p + st.fence_p:
            label, top = FENCE, self.u(1.0, 2.0)
        elif r < st.wall_p + st.fence_p + st.hedge_p:
            label, top = VEGETATION, self.u(0.9, 1.6)
        else:
            return
        cam, x = self.cam, self.curb_x[side]
        d0 = self.u(2.0, 12.0)
        d1 = min(d0 + self.u(10.0, 45.0), self.d_end)
        inst = self.new(label)
        self.poly(self.ops, label, inst, cam.poly([(x, 0, d0), (x, top, d0), (x, top, d1), (x, 0, d1)]))
        if label == FENCE:  # posts and rails
            for d in np.arange(d0, d1, 2.0):
                self.poly(self.ops, label, inst, cam.poly([(x, 0, d), (x, top, d), (x, top, d + 0.25),
                                                           (x, 0, d + 0.25)]), 0.55, labelled=False)
            for y in (top * 0.45, top - 0.12):
                self.poly(self.ops, label, inst, cam.poly([(x, y, d0), (x, y + 0.12, d0), (x, y + 0.12, d1),
                                                           (x, y, d1)]), 0.6, labelled=False)
        elif label == WALL:
            self.poly(self.ops, label, inst, cam.poly([(x, top - 0.2, d0), (x, top, d0), (x, top, d1),
                                                       (x, top - 0.2, d1)]), 0.8, labelled=False)

    # -- objects: each returns (nearest depth, ops) ----------------------------------------
    def tree(self, x: float, d: float, big: bool = False) -> Tuple[float, List[Op]]:
        cam, ops = self.cam, []
        inst = self.new(VEGETATION)
        s = cam.scale(d)
        fx, fy = cam.project(x, 0, d)
        trunk_top = self.u(2.2, 3.5)
        radius = self.u(2.0, 3.5) if big else self.u(1.5, 2.8)
        _, ty = cam.project(x, trunk_top + radius * 0.6, d)
        half = max(1.5, 0.2 * s)
        self.poly(ops, VEGETATION, inst, _rect(fx - half, ty, fx + half, fy), 0.55)
        cx, cy = cam.project(x, trunk_top + radius * 0.8, d)
        r_px = max(radius * s, self.min_px / 2)
        for _ in range(int(self.rng.integers(3, 6))):
            self.circle(ops, VEGETATION, inst, cx + self.u(-0.6, 0.6) * r_px, cy + self.u(-0.5, 0.4) * r_px,
                        r_px * self.u(0.6, 1.0), self.u(0.85, 1.1))
        return d, ops

    def pole(self) -> Tuple[float, List[Op]]:
        """A pole near the curb with a sign and / or a traffic light."""
        cam, ops, m = self.cam, [], self.min_px
        side = int(self.rng.integers(2))
        x = (-self.road_l - 0.4) if side == 0 else (self.road_r + 0.4)
        d = self.depth(x, D_NEAR + 1, 20, m)
        if d is None:
            return 0.0, []
        s = cam.scale(d)
        fx, fy = cam.project(x, 0, d)
        height = self.u(4.5, 8.0)
        _, top = cam.project(x, height, d)
        width = max(m, 0.22 * s)
        inst = self.new(POLE)
        self.poly(ops, POLE, inst, _rect(fx - width / 2, top, fx + width / 2, fy))
        r = self.rng.random()
        with_sign, with_light = r < 0.75, r > 0.45
        if with_light:
            light = self.new(LIGHT)
            bw = max(m, 0.35 * s)
            bh = max(2.2 * bw, 1.0 * s)
            lx = fx
            if self.rng.random() < 0.5:  # on an arm over the road
                arm = self.u(2.0, 4.0) * s * (1 if side == 0 else -1)
                thick = max(0.4 * m, 0.2 * s)
                self.poly(ops, POLE, inst, _rect(min(fx, fx + arm), top, max(fx, fx + arm), top + thick))
                lx = fx + arm
                ly = top + thick
            else:
                ly = top
            self.poly(ops, LIGHT, light, _rect(lx - bw / 2, ly, lx + bw / 2, ly + bh))
            lit = int(self.rng.integers(3))
            for k in range(3):
                colour = LAMPS[k] if k == lit else tuple(c // 4 for c in LAMPS[k])
                self.circle(ops, LIGHT, light, lx, ly + bh * (k + 0.5) / 3, min(bw, bh / 3) * 0.3, colour,
                            labelled=False)
        if with_sign:
            sign = self.new(SIGN)
            size = max(m, 0.75 * s)
            _, sy = cam.project(x, self.u(2.0, 2.8), d)
            shape = int(self.rng.integers(3))
            if shape == 0:
                self.circle(ops, SIGN, sign, fx, sy, size / 2)
                self.circle(ops, SIGN, sign, fx, sy, size / 3, 1.35, labelled=False)
            elif shape == 1:
                self.poly(ops, SIGN, sign, _rect(fx - size / 2, sy - size / 2, fx + size / 2, sy + size / 2))
                self.poly(ops, SIGN, sign, _rect(fx - size / 4, sy - size / 4, fx + size / 4, sy + size / 4), 1.35,
                          labelled=False)
            else:
                tri = np.round([[fx - size * 0.6, sy - size * 0.45], [fx + size * 0.6, sy - size * 0.45],
                                [fx, sy + size * 0.6]]).astype(np.int32)
                self.poly(ops, SIGN, sign, tri)
        return d, ops

    def person(self) -> Tuple[float, List[Op]]:
        """A pedestrian on a sidewalk (stylised: at least ``min_px`` wide)."""
        cam, ops = self.cam, []
        # no farther than where the stylised height is twice the natural one
        d_max = max(D_NEAR + 1.0, cam.f * 1.75 / (0.5 * 2.2 * self.min_px))
        for _ in range(4):
            side = int(self.rng.integers(2))
            inner = self.walk_x[side]
            if self.rng.random() < 0.25:  # crossing the road
                x = self.u(-self.road_l + 0.5, self.road_r - 0.5)
            else:
                x = inner + (1 if side else -1) * self.u(0.3, min(1.5, self.sw[side] - 0.3))
            d = self.depth(x, D_NEAR + 0.5, d_max, self.min_px)
            if d is not None:
                break
        else:
            return 0.0, []
        s = cam.scale(d)
        fx, fy = cam.project(x, 0, d)
        pw = max(self.min_px, 0.55 * s)
        ph = max(self.u(1.6, 1.9) * s, 2.2 * pw)
        inst = self.new(PERSON)
        top = fy - ph
        head_r = max(0.11 * ph, 0.28 * pw)
        self.circle(ops, PERSON, inst, fx, top + head_r, head_r, 1.2)
        self.poly(ops, PERSON, inst, _rect(fx - pw / 2, top + 1.8 * head_r, fx + pw / 2, fy - 0.42 * ph))
        gap = max(1.0, 0.08 * pw)
        self.poly(ops, PERSON, inst, _rect(fx - pw / 2 + 0.08 * pw, fy - 0.45 * ph, fx - gap / 2, fy), 0.7)
        self.poly(ops, PERSON, inst, _rect(fx + gap / 2, fy - 0.45 * ph, fx + pw / 2 - 0.08 * pw, fy), 0.7)
        return d, ops

    def rider(self, motorcycle: bool) -> Tuple[float, List[Op]]:
        """A rider on a bicycle or motorcycle crossing the road, seen from the side."""
        cam, ops, m = self.cam, [], self.min_px
        x = self.u(-self.road_l + 0.8, self.road_r - 0.8)
        d = self.u(D_NEAR + 0.5, 9)
        s = cam.scale(d)
        fx, fy = cam.project(x, 0, d)
        heading = 1 if self.rng.random() < 0.5 else -1
        vehicle_label = MOTORCYCLE if motorcycle else BICYCLE
        vehicle = self.new(vehicle_label)
        person = self.new(RIDER)
        radius = max((0.32 if motorcycle else 0.34) * s, m * 0.3)
        base = max((1.4 if motorcycle else 1.05) * s, 2.6 * radius)
        rear = (fx - heading * base / 2, fy - radius)
        front = (fx + heading * base / 2, fy - radius)
        seat = (fx - heading * 0.12 * base, fy - radius - max(0.5 * s, 1.3 * radius))
        bar = (fx + heading * 0.38 * base, seat[1] - 0.08 * s)
        thick = max(2.0, 0.07 * s)
        for hub in (rear, front):
            self.circle(ops, vehicle_label, vehicle, hub[0], hub[1], radius, TYRE)
            self.circle(ops, vehicle_label, vehicle, hub[0], hub[1], radius * 0.55, 1.0, labelled=False)
        if motorcycle:
            body = np.round([rear, (seat[0] - heading * 0.1 * base, seat[1]), (bar[0], bar[1]),
                             (front[0] - heading * radius, front[1] - 0.2 * radius),
                             (fx, fy - 0.6 * radius)]).astype(np.int32)
            self.poly(ops, vehicle_label, vehicle, body)
        else:
            for a, b in ((rear, seat), (seat, bar), (bar, front), (rear, (fx, fy - radius)), ((fx, fy - radius), seat),
                         ((fx, fy - radius), bar)):
                self.line(ops, vehicle_label, vehicle, a, b, thick)
        torso_w = max(0.3 * s, 0.55 * m)
        shoulder = (seat[0] + heading * 0.18 * s, seat[1] - max(0.6 * s, 1.6 * torso_w))
        self.line(ops, RIDER, person, seat, shoulder, torso_w)
        self.line(ops, RIDER, person, seat, (fx + heading * 0.05 * base, fy - radius), max(0.14 * s, 0.35 * m), 0.7)
        self.line(ops, RIDER, person, shoulder, bar, max(0.09 * s, 0.25 * m), 0.95)
        head_r = max(0.12 * s, 0.3 * torso_w)
        self.circle(ops, RIDER, person, shoulder[0] + heading * 0.3 * head_r, shoulder[1] - head_r, head_r, 1.2)
        return d, ops

    def vehicles(self) -> List[Tuple[float, List[Op]]]:
        """Driving and parked cars, maybe a truck and a bus, without overlaps."""
        st, cam = self.stats, self.cam
        lane_w = (self.road_l + self.road_r) / self.n_lanes
        kinds = ['car'] * int(self.rng.poisson(st.cars))
        kinds += ['truck'] * int(self.rng.random() < st.truck_p) + ['bus'] * int(self.rng.random() < st.bus_p)
        self.rng.shuffle(kinds)
        if self.rare and 'truck' not in kinds and 'bus' not in kinds:
            kinds.insert(0, 'truck' if self.rng.random() < 0.5 else 'bus')
        kinds += ['parked'] * int(self.rng.poisson(st.parked))
        placed: List[Tuple[float, float, float, float]] = []  # x0, x1, d0, d1
        out = []
        for kind in kinds:
            width, length = {'car': (1.8, 4.4), 'parked': (1.8, 4.4), 'truck': (2.5, 8.0), 'bus': (2.55, 12.0)}[kind]
            d_max = max(D_NEAR + 2.0, min(cam.f * width / self.min_px, 0.6 * self.d_end))
            for _ in range(12):
                if kind == 'parked':
                    x = (-self.road_l + 1.1) if self.rng.random() < 0.5 else (self.road_r - 1.1)
                else:
                    x = -self.road_l + (int(self.rng.integers(self.n_lanes)) + 0.5) * lane_w
                d = self.u(D_NEAR + 0.3, d_max)
                x0, x1 = x - width / 2, x + width / 2
                cx, _ = cam.project(x, 0, d)
                if not -0.3 * self.w < cx < 1.3 * self.w:
                    continue
                if all(x1 + 0.3 < a0 or x0 - 0.3 > a1 or d + length + 1 < b0 or d - 1 > b1
                       for a0, a1, b0, b1 in placed):
                    placed.append((x0, x1, d, d + length))
                    draw = {'truck': self.truck, 'bus': self.bus}.get(kind, self.car)
                    out.append((d, draw(x0, x1, d, length)))
                    break
        return out

    def wheels(self, ops: List[Op], label: int, inst: int, x0: float, x1: float, d: float, length: float,
               radius: float) -> None:
        """Rear tyres under the near face and side tyres on the visible side."""
        cam = self.cam
        for xa, xb in ((x0 + 0.05, x0 + 0.4), (x1 - 0.4, x1 - 0.05)):
            self.poly(ops, label, inst, cam.poly([(xa, 0, d + 0.6), (xb, 0, d + 0.6), (xb, 2 * radius, d + 0.6),
                                                  (xa, 2 * radius, d + 0.6)]), TYRE)
        if x0 > 0 or x1 < 0:
            xs = x0 if x0 > 0 else x1
            for dw in (d + 0.8, d + length - 0.9):
                cx, cy = cam.project(xs, radius, dw)
                ax = abs(cam.project(xs, 0, dw + radius)[0] - cam.project(xs, 0, dw - radius)[0]) / 2
                self.ellipse(ops, label, inst, cx, cy, ax, radius * cam.scale(dw), TYRE)

    def car(self, x0: float, x1: float, d: float, length: float) -> List[Op]:
        ops: List[Op] = []
        inst = self.new(CAR)
        self.wheels(ops, CAR, inst, x0, x1, d, length, 0.32)
        self.box(ops, CAR, inst, x0, x1, 0.3, 0.95, d, d + length)
        cab = (x0 + 0.15, x1 - 0.15, d + 0.9, d + length - 1.0)
        self.box(ops, CAR, inst, cab[0], cab[1], 0.95, 1.5, cab[2], cab[3], side_shade=0.5)
        cam = self.cam
        self.poly(ops, CAR, inst, cam.poly([(cab[0] + 0.1, 1.0, cab[2]), (cab[1] - 0.1, 1.0, cab[2]),
                                            (cab[1] - 0.1, 1.42, cab[2]), (cab[0] + 0.1, 1.42, cab[2])]), 0.4,
                  labelled=False)
        for xa in (x0 + 0.1, x1 - 0.35):
            self.poly(ops, CAR, inst, cam.poly([(xa, 0.65, d), (xa + 0.25, 0.65, d), (xa + 0.25, 0.85, d),
                                                (xa, 0.85, d)]), TAIL_LIGHT, labelled=False)
        return ops

    def truck(self, x0: float, x1: float, d: float, length: float) -> List[Op]:
        ops: List[Op] = []
        inst = self.new(TRUCK)
        self.wheels(ops, TRUCK, inst, x0, x1, d, length, 0.5)
        self.box(ops, TRUCK, inst, x0 + 0.05, x1 - 0.05, 0.5, 2.9, d + length - 2.3, d + length, side_shade=0.6)
        self.box(ops, TRUCK, inst, x0, x1, 0.8, 3.6, d, d + length - 2.4)
        cam, xm = self.cam, (x0 + x1) / 2
        self.poly(ops, TRUCK, inst, cam.poly([(xm - 0.04, 0.9, d), (xm + 0.04, 0.9, d), (xm + 0.04, 3.5, d),
                                              (xm - 0.04, 3.5, d)]), 0.7, labelled=False)
        return ops

    def bus(self, x0: float, x1: float, d: float, length: float) -> List[Op]:
        ops: List[Op] = []
        inst = self.new(BUS)
        self.wheels(ops, BUS, inst, x0, x1, d, length, 0.5)
        self.box(ops, BUS, inst, x0, x1, 0.3, 3.2, d, d + length)
        cam = self.cam
        if x0 > 0 or x1 < 0:  # window band along the visible side
            xs = x0 if x0 > 0 else x1
            self.poly(ops, BUS, inst, cam.poly([(xs, 1.4, d + 0.5), (xs, 2.5, d + 0.5), (xs, 2.5, d + length - 0.5),
                                                (xs, 1.4, d + length - 0.5)]), 0.35, labelled=False)
        self.poly(ops, BUS, inst, cam.poly([(x0 + 0.2, 2.0, d), (x1 - 0.2, 2.0, d), (x1 - 0.2, 2.9, d),
                                            (x0 + 0.2, 2.9, d)]), 0.35, labelled=False)
        return ops


def sample_layout(rng: np.random.Generator, height: int, width: int, domain: str, rare: bool = False) -> Layout:
    """One street scene of ``domain`` ('source' or 'target'); both use the same sampler.

    ``rare``: the scene has a truck or a bus (placed first, before the other vehicles).
    """
    return SceneBuilder(rng, height, width, STATS[domain], rare).build()


def has_rare_vehicle(domain: str, index: int) -> bool:
    """Every fifth source image (index 0, 5, 10, ...) has a truck or bus, so small sets have a rare class."""
    return domain == SOURCE and index % RARE_EVERY == 0


def class_colours(domain: str, shift: float) -> np.ndarray:
    """(256, 3) float RGB base colour per label id.

    The target moves ``min(shift, 1)`` of the way from the source to the target palette: beyond 1
    only the photographic effects grow, so no class colour leaves the neighbourhood of its own.
    """
    colours = np.zeros((256, 3), np.float64)
    step = 0.0 if domain == SOURCE else min(float(shift), 1.0)
    for label in LABEL_IDS:
        src = np.asarray(SOURCE_PALETTE[label], np.float64)
        colours[label] = src + step * (np.asarray(TARGET_PALETTE[label], np.float64) - src)
    return colours


def draw(layout: Layout, inst_colours: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Rasterise a layout: (RGB uint8 image, uint8 label ids), sharp edges."""
    h, w = layout.height, layout.width
    image = np.zeros((h, w, 3), np.uint8)
    label = np.zeros((h, w), np.uint8)
    for kind, label_id, inst, shade, geom, labelled in layout.ops:
        if isinstance(shade, tuple):
            colour = tuple(float(c) for c in shade)
        else:
            colour = tuple(float(c) for c in np.clip(inst_colours[inst] * shade, 0, 255))
        targets = ((image, colour), (label, label_id)) if labelled else ((image, colour), )
        for canvas, value in targets:
            if kind == 'poly':
                cv2.fillPoly(canvas, [geom], value)
            elif kind == 'circle':
                cv2.circle(canvas, geom[:2], geom[2], value, -1)
            elif kind == 'ellipse':
                cv2.ellipse(canvas, geom[:2], geom[2:], 0, 0, 360, value, -1)
            else:
                cv2.line(canvas, geom[:2], geom[2:4], value, geom[4])
    return image, label


def render(layout: Layout, domain: str, shift: float, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 image, uint8 label ids) of a layout in the look of ``domain``."""
    s = shift if domain == TARGET else 0.0
    base = class_colours(domain, shift)
    n = len(layout.instances)
    jitter = rng.normal(0, 5 + 13 * s, (n, 1)) + rng.normal(0, 3 + 5 * s, (n, 3))
    image, label = draw(layout, base[np.asarray(layout.instances, np.int64)] + jitter)
    if s <= 0:
        return image, label
    return photograph(image, label, layout.horizon, s, rng), label


def photograph(image: np.ndarray, label: np.ndarray, horizon: float, s: float,
               rng: np.random.Generator) -> np.ndarray:
    """The target look: texture, light gradient and shadow, haze, colour cast, blur and noise, scaled by ``s``."""
    h, w = label.shape
    img = image.astype(np.float32)
    amp = np.full(256, 8.0, np.float32)
    for label_id, value in TEXTURE.items():
        amp[label_id] = value
    low = cv2.resize(rng.standard_normal((h // 8 + 2, w // 8 + 2)).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_LINEAR)
    tex = 0.7 * low + 0.7 * rng.standard_normal((h, w)).astype(np.float32)
    img += (s * amp[label] * tex)[..., None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) * 2
    gain = 1 + s * rng.uniform(0.1, 0.3) * ramp
    if rng.random() < 0.5:  # a cast shadow across the lower part of the scene
        mask = np.zeros((h, w), np.uint8)
        x0, x1 = rng.uniform(-0.3, 0.8) * w, rng.uniform(0.2, 1.3) * w
        y0 = horizon + rng.uniform(0.05, 0.3) * (h - horizon)
        pts = np.round([[x0, y0], [x1, y0 + rng.uniform(-0.2, 0.2) * h], [x1 + w, h], [x0 - w, h]]).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
        gain = gain * (1 - s * rng.uniform(0.2, 0.4) * mask)
    img *= np.clip(gain, 0.2, 2.0)[..., None]
    haze = s * rng.uniform(0.15, 0.45) * np.exp(-np.abs(yy - horizon) / (0.22 * h))
    haze_colour = np.array([205, 210, 215], np.float32) + rng.normal(0, 8, 3).astype(np.float32)
    img = img * (1 - haze[..., None]) + haze_colour * haze[..., None]
    cast = (1 + s * rng.normal(0, 0.07, 3)) * (1 + s * rng.normal(0, 0.08))
    img *= cast.astype(np.float32)
    sigma = s * rng.uniform(0.5, 1.1) * min(1.0, min(h, w) / 128)
    if sigma > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += s * 2.5 * rng.standard_normal(img.shape).astype(np.float32)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def image_seed(seed: int, domain: str, split: str, index: int) -> np.random.SeedSequence:
    """The seed of one image: from ``--seed``, its domain, split and index (independent of ``--nproc``)."""
    return np.random.SeedSequence([seed, DOMAIN_SEED_IDS[domain], 0 if split == 'train' else 1, index])


def make_scene(seed: int, domain: str, split: str, index: int, height: int, width: int,
               shift: float) -> Tuple[np.ndarray, np.ndarray]:
    """(RGB image, label ids) of one data-set image."""
    layout_seed, look_seed = image_seed(seed, domain, split, index).spawn(2)
    layout = sample_layout(np.random.default_rng(layout_seed), height, width, domain, has_rare_vehicle(domain, index))
    return render(layout, domain, shift, np.random.default_rng(look_seed))


GTA_LABEL_PALETTE = [c for i in range(256) for c in (id2label[i].color if i in id2label and i >= 0 else (0, 0, 0))]


def _save_png(path: str, image: Image.Image) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, 'PNG')


def task_paths(root: str, task: Tuple[str, str, int]) -> Tuple[str, str]:
    """(image path, label path) of a task ``(domain, split, index)`` below the data-set root."""
    domain, split, index = task
    if domain == SOURCE:
        return (os.path.join(root, 'gta', 'images', f'{index + 1:05d}.png'),
                os.path.join(root, 'gta', 'labels', f'{index + 1:05d}.png'))
    cities = TRAIN_CITIES if split == 'train' else VAL_CITIES
    city = cities[index % len(cities)]
    stem = f'{city}_000000_{index:06d}'
    return (os.path.join(root, 'cityscapes', 'leftImg8bit', split, city, f'{stem}_leftImg8bit.png'),
            os.path.join(root, 'cityscapes', 'gtFine', split, city, f'{stem}_gtFine_labelIds.png'))


def write_task(task: Tuple[str, str, int], root: str, settings: Settings) -> None:
    """Generate and write one image and its label file."""
    domain, split, index = task
    image, label = make_scene(settings.seed, domain, split, index, settings.height, settings.width, settings.shift)
    image_path, label_path = task_paths(root, task)
    _save_png(image_path, Image.fromarray(image, 'RGB'))
    label_image = Image.fromarray(label, 'L')
    if domain == SOURCE:  # GTA ships palette PNGs of label ids
        label_image = label_image.convert('P')
        label_image.putpalette(GTA_LABEL_PALETTE)
    _save_png(label_path, label_image)


# Ground classes (the street plane); every other class but sky stands on the ground below it.
GROUND_IDS = (ROAD, SIDEWALK, TERRAIN)


def scene_depth(label: np.ndarray, horizon: float) -> np.ndarray:
    """The depth in metres (H, W) of a scene from its label ids and horizon row.

    A ground pixel of row y is at depth ``D_NEAR·(H − horizon) / (y + 0.5 − horizon)`` (the camera's flat
    street); an object pixel takes the depth of the nearest ground pixel below it in its column (objects
    stand upright on the ground), or of the bottom row; sky is infinitely far (``inf``).
    """
    h, w = label.shape
    below = np.arange(h) + 0.5 - horizon
    ground_depth = D_NEAR * (h - horizon) / np.maximum(below, 0.5)
    ground = np.isin(label, GROUND_IDS)
    depth = np.empty((h, w), np.float64)
    support = np.full(w, ground_depth[-1])
    for y in range(h - 1, -1, -1):
        support = np.where(ground[y], ground_depth[y], support)
        depth[y] = support
    depth[label == SKY] = np.inf
    return depth


def scene_label(settings: Settings, task: Tuple[str, str, int]) -> Tuple[np.ndarray, float]:
    """(label ids, horizon row) of a task's scene, its layout drawn again from the image's seed."""
    domain, split, index = task
    layout_seed, _ = image_seed(settings.seed, domain, split, index).spawn(2)
    layout = sample_layout(np.random.default_rng(layout_seed), settings.height, settings.width, domain,
                           has_rare_vehicle(domain, index))
    return draw(layout, np.zeros((len(layout.instances), 3)))[1], layout.horizon


def disparity_map(label: np.ndarray, horizon: float) -> np.ndarray:
    """An 8-bit inverse-depth map (near = 255, sky = 0) of a scene from its label ids and horizon row
    (:func:`scene_depth`), min-max normalised to 0..255 and truncated to uint8, as Depth Anything's own script
    writes its maps.
    """
    disparity = 1.0 / scene_depth(label, horizon)
    span = disparity.max() - disparity.min()
    scaled = (disparity - disparity.min()) / span * 255.0 if span > 0 else np.zeros_like(disparity)
    return scaled.astype(np.uint8)


def depth_path(root: str, task: Tuple[str, str, int]) -> str:
    """The depth map of a task in the CDDA layout (GTA: the image's name; Cityscapes: ``leftImg8bit`` → ``depth``)."""
    image_path, _ = task_paths(root, task)
    if task[0] == SOURCE:
        return os.path.join(root, 'gta', 'depth_any', os.path.basename(image_path))
    relative = os.path.relpath(image_path, os.path.join(root, 'cityscapes', 'leftImg8bit'))
    return os.path.join(root, 'cityscapes', 'depth_any', relative.replace('leftImg8bit', 'depth'))


def write_depth(task: Tuple[str, str, int], root: str, settings: Settings) -> None:
    """Write the depth map of one image (its layout is drawn again from the image's seed)."""
    _save_png(depth_path(root, task), Image.fromarray(disparity_map(*scene_label(settings, task)), 'L'))


def missing_depth_maps(root: str, settings: Settings) -> List[Tuple[str, str, int]]:
    """The tasks whose depth map is not in ``root`` (data sets generated before the depth maps existed)."""
    return [task for task in tasks(settings) if not os.path.isfile(depth_path(root, task))]


def rain_setting(index: int) -> Tuple[Tuple[float, float, float], int]:
    """The rain level (α, β, dropsize) and streak pattern of the target image ``index``: every 36 images of a split
    go through the 3 levels x 12 patterns (as Rain Cityscapes renders each frame 36 times), so the file names do
    not depend on the seed."""
    return RAIN_LEVELS[index % len(RAIN_LEVELS)], index // len(RAIN_LEVELS) % RAIN_PATTERNS + 1


def weather_paths(root: str, task: Tuple[str, str, int]) -> Dict[str, str]:
    """The fog renderings (``fog <β>``) and the rain rendering (``rain``) of a target image, in the Foggy / Rain
    Cityscapes layouts."""
    image_path, _ = task_paths(root, task)
    cityscapes = os.path.join(root, 'cityscapes')
    stem = os.path.relpath(image_path, os.path.join(cityscapes, 'leftImg8bit'))[:-len('.png')]
    paths = {f'fog {beta:g}': os.path.join(cityscapes, 'leftImg8bit_foggy', f'{stem}_foggy_beta_{beta:g}.png')
             for beta in FOG_BETAS}
    rain_part = rain_name_part(*rain_setting(task[2]))
    paths['rain'] = os.path.join(cityscapes, 'leftImg8bit_rain', f'{stem}_{rain_part}.png')
    return paths


def write_weather(task: Tuple[str, str, int], root: str, settings: Settings) -> None:
    """Write the fog and rain renderings of one target image (the written image under its scene's depth)."""
    image_path, _ = task_paths(root, task)
    image = np.asarray(Image.open(image_path).convert('RGB'))
    depth = scene_depth(*scene_label(settings, task))
    paths = weather_paths(root, task)
    for beta in FOG_BETAS:
        _save_png(paths[f'fog {beta:g}'], Image.fromarray(fog(image, depth, beta), 'RGB'))
    level, pattern = rain_setting(task[2])
    _save_png(paths['rain'], Image.fromarray(rain(image, depth, *level, pattern), 'RGB'))


def missing_weather(root: str, settings: Settings) -> List[Tuple[str, str, int]]:
    """The target tasks with a fog or rain rendering not in ``root`` (data sets made before they existed)."""
    return [task for task in tasks(settings) if task[0] == TARGET
            and not all(os.path.isfile(path) for path in weather_paths(root, task).values())]


def tasks(settings: Settings) -> List[Tuple[str, str, int]]:
    """All ``(domain, split, index)`` images of a data set."""
    return ([(SOURCE, 'train', i) for i in range(settings.num_source)]
            + [(TARGET, 'train', i) for i in range(settings.num_target_train)]
            + [(TARGET, 'val', i) for i in range(settings.num_val)])


# Mapillary Vistas v1.2 classes, in the order of config_v1.2.json (index = class index of the label PNGs)
MAPILLARY_CLASSES = (
    ('animal--bird', 'Bird'), ('animal--ground-animal', 'Ground Animal'), ('construction--barrier--curb', 'Curb'),
    ('construction--barrier--fence', 'Fence'), ('construction--barrier--guard-rail', 'Guard Rail'),
    ('construction--barrier--other-barrier', 'Barrier'), ('construction--barrier--wall', 'Wall'),
    ('construction--flat--bike-lane', 'Bike Lane'), ('construction--flat--crosswalk-plain', 'Crosswalk - Plain'),
    ('construction--flat--curb-cut', 'Curb Cut'), ('construction--flat--parking', 'Parking'),
    ('construction--flat--pedestrian-area', 'Pedestrian Area'), ('construction--flat--rail-track', 'Rail Track'),
    ('construction--flat--road', 'Road'), ('construction--flat--service-lane', 'Service Lane'),
    ('construction--flat--sidewalk', 'Sidewalk'), ('construction--structure--bridge', 'Bridge'),
    ('construction--structure--building', 'Building'), ('construction--structure--tunnel', 'Tunnel'),
    ('human--person', 'Person'), ('human--rider--bicyclist', 'Bicyclist'),
    ('human--rider--motorcyclist', 'Motorcyclist'), ('human--rider--other-rider', 'Other Rider'),
    ('marking--crosswalk-zebra', 'Lane Marking - Crosswalk'), ('marking--general', 'Lane Marking - General'),
    ('nature--mountain', 'Mountain'), ('nature--sand', 'Sand'), ('nature--sky', 'Sky'), ('nature--snow', 'Snow'),
    ('nature--terrain', 'Terrain'), ('nature--vegetation', 'Vegetation'), ('nature--water', 'Water'),
    ('object--banner', 'Banner'), ('object--bench', 'Bench'), ('object--bike-rack', 'Bike Rack'),
    ('object--billboard', 'Billboard'), ('object--catch-basin', 'Catch Basin'),
    ('object--cctv-camera', 'CCTV Camera'), ('object--fire-hydrant', 'Fire Hydrant'),
    ('object--junction-box', 'Junction Box'), ('object--mailbox', 'Mailbox'), ('object--manhole', 'Manhole'),
    ('object--phone-booth', 'Phone Booth'), ('object--pothole', 'Pothole'), ('object--street-light', 'Street Light'),
    ('object--support--pole', 'Pole'), ('object--support--traffic-sign-frame', 'Traffic Sign Frame'),
    ('object--support--utility-pole', 'Utility Pole'), ('object--traffic-light', 'Traffic Light'),
    ('object--traffic-sign--back', 'Traffic Sign (Back)'), ('object--traffic-sign--front', 'Traffic Sign (Front)'),
    ('object--trash-can', 'Trash Can'), ('object--vehicle--bicycle', 'Bicycle'), ('object--vehicle--boat', 'Boat'),
    ('object--vehicle--bus', 'Bus'), ('object--vehicle--car', 'Car'), ('object--vehicle--caravan', 'Caravan'),
    ('object--vehicle--motorcycle', 'Motorcycle'), ('object--vehicle--on-rails', 'On Rails'),
    ('object--vehicle--other-vehicle', 'Other Vehicle'), ('object--vehicle--trailer', 'Trailer'),
    ('object--vehicle--truck', 'Truck'), ('object--vehicle--wheeled-slow', 'Wheeled Slow'),
    ('void--car-mount', 'Car Mount'), ('void--ego-vehicle', 'Ego Vehicle'), ('void--unlabeled', 'Unlabeled'),
)
MAPILLARY_UNLABELED = len(MAPILLARY_CLASSES) - 1
# Cityscapes label id of the scenes -> Vistas class (riders as Bicyclist, poles as Utility Pole and signs as Traffic
# Sign (Front), so that the converter's name rules are exercised, not only its exact matches)
MAPILLARY_INDEX = {ROAD: 13, SIDEWALK: 15, BUILDING: 17, WALL: 6, FENCE: 3, POLE: 47, LIGHT: 48, SIGN: 50,
                   VEGETATION: 30, TERRAIN: 29, SKY: 27, PERSON: 19, RIDER: 20, CAR: 55, TRUCK: 61, BUS: 54,
                   MOTORCYCLE: 57, BICYCLE: 52}
MAPILLARY_SIZE_FACTOR = 2  # Vistas images are larger; the validation images are halved (mapillary_resize.py)
MAPILLARY_JPEG_QUALITY = 95
MAPILLARY_CAST = np.array([1.08, 1.0, 0.9], np.float32)  # warm colour cast (RGB gains)
MAPILLARY_LOOK = 1.3  # the photographic effects, relative to the target's
SYNSCAPES_PALETTE_STEP = 0.5  # Synscapes colours: this far from the source towards the target palette
SYNSCAPES_LIGHT = 0.15  # soft lighting gradient of the Synscapes renderer (gain 1 ± this at shift 1)
DDB_DOMAINS = (SYNSCAPES, MAPILLARY)


def render_synscapes(layout: Layout, shift: float, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """The second source style: colours halfway between the two palettes, small instance variation, sharp edges and
    a soft lighting gradient (no texture, haze, blur or noise)."""
    source = class_colours(SOURCE, shift)
    base = source + SYNSCAPES_PALETTE_STEP * (class_colours(TARGET, shift) - source)
    n = len(layout.instances)
    jitter = rng.normal(0, 5, (n, 1)) + rng.normal(0, 3, (n, 3))
    image, label = draw(layout, base[np.asarray(layout.instances, np.int64)] + jitter)
    h, w = label.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) * 2
    gain = 1 + SYNSCAPES_LIGHT * min(float(shift), 1.0) * ramp
    return np.clip(np.round(image.astype(np.float32) * gain[..., None]), 0, 255).astype(np.uint8), label


def render_mapillary(layout: Layout, shift: float, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """The second target style: the target look photographed more strongly, with a warm colour cast."""
    image, label = render(layout, TARGET, min(MAX_SHIFT, MAPILLARY_LOOK * shift), rng)
    cast = 1 + min(float(shift), 1.0) * (MAPILLARY_CAST - 1)
    return np.clip(np.round(image.astype(np.float32) * cast), 0, 255).astype(np.uint8), label


def ddb_tasks(settings: Settings, domain: str) -> List[Tuple[str, str, int]]:
    """The ``(domain, split, index)`` images of a DDB domain: one Synscapes image per source image, one Mapillary
    image per target train and val image."""
    if domain == SYNSCAPES:
        return [(SYNSCAPES, 'train', i) for i in range(settings.num_source)]
    return ([(MAPILLARY, 'train', i) for i in range(settings.num_target_train)]
            + [(MAPILLARY, 'val', i) for i in range(settings.num_val)])


def ddb_task_paths(root: str, task: Tuple[str, str, int]) -> Tuple[str, str]:
    """(image path, label path) of a DDB task in the Synscapes / Mapillary Vistas v1.2 layout."""
    domain, split, index = task
    if domain == SYNSCAPES:
        return (os.path.join(root, SYNSCAPES, 'img', 'rgb', f'{index + 1}.png'),
                os.path.join(root, SYNSCAPES, 'img', 'class', f'{index + 1}.png'))
    folder = os.path.join(root, MAPILLARY, 'training' if split == 'train' else 'validation')
    key = f'{split}{index:06d}'
    return os.path.join(folder, 'images', f'{key}.jpg'), os.path.join(folder, 'v1.2', 'labels', f'{key}.png')


MAPILLARY_LUT = np.full(256, MAPILLARY_UNLABELED, np.uint8)
for _label_id, _index in MAPILLARY_INDEX.items():
    MAPILLARY_LUT[_label_id] = _index
MAPILLARY_COLOURS = [(37 * i) % 256 for i in range(len(MAPILLARY_CLASSES)) for _ in range(3)]


def write_ddb_task(task: Tuple[str, str, int], root: str, settings: Settings) -> None:
    """Generate and write one Synscapes or Mapillary image and its label file."""
    domain, split, index = task
    scale = MAPILLARY_SIZE_FACTOR if domain == MAPILLARY else 1
    layout_seed, look_seed = image_seed(settings.seed, domain, split, index).spawn(2)
    layout = sample_layout(np.random.default_rng(layout_seed), settings.height * scale, settings.width * scale,
                           domain)
    render_domain = render_synscapes if domain == SYNSCAPES else render_mapillary
    image, label = render_domain(layout, settings.shift, np.random.default_rng(look_seed))
    image_path, label_path = ddb_task_paths(root, task)
    os.makedirs(os.path.dirname(image_path), exist_ok=True)
    if domain == SYNSCAPES:
        _save_png(image_path, Image.fromarray(image, 'RGB'))
        _save_png(label_path, Image.fromarray(label, 'L'))
        return
    Image.fromarray(image, 'RGB').save(image_path, 'JPEG', quality=MAPILLARY_JPEG_QUALITY)
    vistas = Image.fromarray(MAPILLARY_LUT[label], 'P')
    vistas.putpalette(MAPILLARY_COLOURS)
    _save_png(label_path, vistas)


def write_mapillary_config(data_root: str) -> None:
    """``config_v1.2.json`` with the Vistas label list (name, readable, colour, instances, evaluate)."""
    labels = [dict(name=name, readable=readable, color=MAPILLARY_COLOURS[3 * i:3 * i + 3], instances=False,
                   evaluate=i != MAPILLARY_UNLABELED) for i, (name, readable) in enumerate(MAPILLARY_CLASSES)]
    with open(os.path.join(data_root, 'config_v1.2.json'), 'w') as f:
        json.dump(dict(labels=labels, version='1.2', mapping='public'), f, indent=2)
        f.write('\n')


def build_ddb_domain(domain: str, root: str, settings: Settings, nproc: int = 1) -> None:
    """Write and convert the DDB domain ``domain`` as ``<root>/<domain>``, built in a temporary folder and renamed
    into place (its presence means it is complete)."""
    tmp = tempfile.mkdtemp(prefix=f'.{domain}.tmp-', dir=root)
    try:
        track_parallel(partial(write_ddb_task, root=tmp, settings=settings), ddb_tasks(settings, domain), nproc,
                       f'{domain} images')
        data = os.path.join(tmp, domain)
        if domain == SYNSCAPES:
            _converter('synscapes').main([data, '--nproc', str(nproc)])
            _move_stats_paths(data, data, os.path.join(root, domain))
        else:
            write_mapillary_config(data)
            labels = os.path.join(data, 'cityscapes_trainIdLabel')
            _converter('mapillary2cityscape').main([data, labels, '--train_id', '--nproc', str(nproc)])
            _converter('mapillary_resize').main([
                os.path.join(data, 'validation', 'images'), os.path.join(labels, 'val', 'label'),
                os.path.join(data, 'half', 'val_img'), os.path.join(data, 'half', 'val_label'), '--nproc', str(nproc)])
        os.rename(data, os.path.join(root, domain))
    finally:
        shutil.rmtree(tmp)


def missing_ddb_domains(root: str) -> List[str]:
    """The DDB domains not in ``root`` (data sets made before they existed)."""
    return [domain for domain in DDB_DOMAINS if not os.path.isdir(os.path.join(root, domain))]


def _converter(name: str) -> Any:
    """``tools/convert_datasets/<name>.py`` as a module (the folder is not a package)."""
    path = REPO_ROOT / 'tools' / 'convert_datasets' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'_convert_{name}', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its functions can then be pickled for the converter's process pool
    spec.loader.exec_module(module)
    return module


def _move_stats_paths(data_root: str, old_root: str, new_root: str) -> None:
    """Rewrite the ``file`` paths of the class statistics from the temporary to the final folder."""
    with open(os.path.join(data_root, 'sample_class_stats.json')) as f:
        stats = json.load(f)
    for entry in stats:
        if entry['file'].startswith(old_root + os.sep):
            entry['file'] = new_root + entry['file'][len(old_root):]
    save_class_stats(data_root, stats)


def read_generator_json(out_dir: str) -> Optional[Dict[str, Any]]:
    """The ``generator.json`` of a folder, or None."""
    path = os.path.join(out_dir, 'generator.json')
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}


def generate(settings: Settings, out_dir: str, force: bool = False, nproc: int = 1) -> bool:
    """Write the data set into ``out_dir`` and convert it; False if it is already up to date.

    Raises FileExistsError if ``out_dir`` holds another data set (unless ``force``) or is not a
    generated folder.
    """
    out_dir = os.path.normpath(out_dir)
    wanted = settings.to_json()
    if os.path.lexists(out_dir):
        existing = read_generator_json(out_dir)
        if existing == wanted:
            missing = missing_depth_maps(out_dir, settings)
            if missing:  # a data set of an earlier version of this script: add its depth maps
                track_parallel(partial(write_depth, root=out_dir, settings=settings), missing, nproc, 'depth maps')
            missing_renderings = missing_weather(out_dir, settings)
            if missing_renderings:  # and its fog and rain renderings
                track_parallel(partial(write_weather, root=out_dir, settings=settings), missing_renderings, nproc,
                               'fog and rain')
            missing_domains = missing_ddb_domains(out_dir)
            for domain in missing_domains:  # and its Synscapes and Mapillary styles
                build_ddb_domain(domain, out_dir, settings, nproc)
            return bool(missing or missing_renderings or missing_domains)
        if existing is None and not (os.path.isdir(out_dir) and not os.listdir(out_dir)):
            raise FileExistsError(f'{out_dir!r} exists and is not a synthetic data set (no generator.json); '
                                  'remove it or choose another --out-dir')
        if existing is not None and not force:  # another data set, or an unreadable generator.json
            diff = {k: (existing.get(k), v) for k, v in wanted.items() if existing.get(k) != v}
            raise FileExistsError(f'{out_dir!r} holds a synthetic data set made with other settings '
                                  f'(existing, requested: {diff}); pass --force to regenerate it')
    parent = os.path.dirname(out_dir) or '.'
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{os.path.basename(out_dir)}.tmp-', dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the data set gets ordinary permissions
    try:
        track_parallel(partial(write_task, root=tmp, settings=settings), tasks(settings), nproc, 'synthetic images')
        track_parallel(partial(write_weather, root=tmp, settings=settings),
                       [task for task in tasks(settings) if task[0] == TARGET], nproc, 'fog and rain')
        track_parallel(partial(write_depth, root=tmp, settings=settings), tasks(settings), nproc, 'depth maps')
        _converter('gta').main([os.path.join(tmp, 'gta'), '--nproc', str(nproc)])
        _converter('cityscapes').main([os.path.join(tmp, 'cityscapes'), '--nproc', str(nproc)])
        for domain in DDB_DOMAINS:
            build_ddb_domain(domain, tmp, settings, nproc)
        for name in ('gta', 'cityscapes', SYNSCAPES):
            _move_stats_paths(os.path.join(tmp, name), tmp, out_dir)
        with open(os.path.join(tmp, 'generator.json'), 'w') as f:
            json.dump(wanted, f, indent=2)
            f.write('\n')
        if os.path.lexists(out_dir):
            old = tempfile.mkdtemp(prefix=f'.{os.path.basename(out_dir)}.old-', dir=parent)
            os.rename(out_dir, os.path.join(old, 'data'))
            os.rename(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.rename(tmp, out_dir)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
    return True


def colourise(label: np.ndarray) -> np.ndarray:
    """RGB image of label ids in the Cityscapes colours."""
    return np.asarray(GTA_LABEL_PALETTE, np.uint8).reshape(256, 3)[label]


def preview(path: str, seed: int = 0, size: Tuple[int, int] = (128, 128), shift: float = 1.0, rows: int = 4,
            start: int = 0) -> None:
    """A grid, one row per index: source image, its labels, target image, its labels, and the source
    layout in the target look (to see the appearance shift alone)."""
    h, w = size
    lines = []
    for i in range(start, start + rows):
        src_img, src_lbl = make_scene(seed, SOURCE, 'train', i, h, w, shift)
        tgt_img, tgt_lbl = make_scene(seed, TARGET, 'train', i, h, w, shift)
        layout_seed, look_seed = image_seed(seed, SOURCE, 'train', i).spawn(2)
        layout = sample_layout(np.random.default_rng(layout_seed), h, w, SOURCE, has_rare_vehicle(SOURCE, i))
        same_img, _ = render(layout, TARGET, shift, np.random.default_rng(look_seed))
        gap = np.full((h, 4, 3), 255, np.uint8)
        lines.append(np.concatenate([src_img, gap, colourise(src_lbl), gap, gap, tgt_img, gap, colourise(tgt_lbl),
                                     gap, gap, same_img], 1))
        lines.append(np.full((4, lines[-1].shape[1], 3), 255, np.uint8))
    grid = np.concatenate(lines[:-1], 0)
    grid = cv2.resize(grid, (grid.shape[1] * 2, grid.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid).save(path)


def parse_args(argv: Optional[List[str]] = None) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(description='Generate the synthetic GTA-like / Cityscapes-like UDA data set')
    parser.add_argument('--out-dir', default='data/synthetic', help='output folder (default: data/synthetic)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num', type=int, default=600, help='number of source (GTA-like) images')
    parser.add_argument('--num-target-train', type=int, default=600, help='number of target train images')
    parser.add_argument('--num-val', type=int, default=150, help='number of target val images')
    parser.add_argument('--size', type=int, nargs=2, default=(128, 128), metavar=('H', 'W'),
                        help=f'image size, each divisible by {SIZE_DIVISOR} (default: 128 128)')
    parser.add_argument('--shift', type=float, default=1.0,
                        help=f'appearance-shift strength of the target, 0 to {MAX_SHIFT:g} (default: 1)')
    parser.add_argument('--force', action='store_true', help='regenerate a data set made with other settings')
    parser.add_argument('--nproc', type=int, default=1, help='processes (the files do not depend on it)')
    parser.add_argument('--preview', metavar='PNG', help='only write a preview grid of a few image pairs to PNG')
    args = parser.parse_args(argv)
    for name in ('num', 'num_target_train', 'num_val'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, got {getattr(args, name)}')
    h, w = args.size
    if h < SIZE_DIVISOR or w < SIZE_DIVISOR or h % SIZE_DIVISOR or w % SIZE_DIVISOR:
        parser.error(f'--size {h} {w}: height and width must be positive multiples of {SIZE_DIVISOR} '
                     '(the output stride of the model)')
    if not 0 <= args.shift <= MAX_SHIFT:
        parser.error(f'--shift must be between 0 and {MAX_SHIFT:g}, got {args.shift}')
    if args.nproc < 1:
        parser.error(f'--nproc must be at least 1, got {args.nproc}')
    return parser, args


def main(argv: Optional[List[str]] = None) -> None:
    """Command line entry point."""
    parser, args = parse_args(argv)
    if args.preview:
        preview(args.preview, args.seed, tuple(args.size), args.shift)
        print(f'preview written to {args.preview}')
        return
    settings = Settings(seed=args.seed, height=args.size[0], width=args.size[1], num_source=args.num,
                        num_target_train=args.num_target_train, num_val=args.num_val, shift=args.shift)
    start = time.time()
    try:
        made = generate(settings, args.out_dir, args.force, args.nproc)
    except FileExistsError as error:
        sys.exit(f'make_synthetic_data: error: {error}')
    if made:
        print(f'synthetic data set written to {args.out_dir} in {time.time() - start:.1f} s: '
              f'{settings.num_source} source, {settings.num_target_train} target train and {settings.num_val} '
              f'val images of {settings.height}x{settings.width}, seed {settings.seed}, shift {settings.shift:g}')
    else:
        print(f'{args.out_dir} is up to date (generator.json has the same settings); nothing to do')


if __name__ == '__main__':
    main()
