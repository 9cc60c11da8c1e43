"""Label placement for the plots of :mod:`eisfit.show.plot`: no label on a marker or on another
label.

Labels (apex, decade and intercept labels of a Nyquist plot, excluded points of an Arrhenius
plot) are placed when the figure is drawn, after the layout engine and the equal-aspect box have
fixed where the Axes sit, so the rule holds for every size and resolution the figure is saved
at. The rule, per label in the order given (apex labels before decade labels):

1. candidate boxes around the anchor: 16 directions at distances from 3 pt to 105 pt, each box
   touching the anchor's side in that direction;
2. a candidate is allowed when its box lies inside the Axes and clear of every marker (each
   marker's radius plus 1 px), of every label already placed, of the legend and of fixed notes;
3. of the allowed ones, the nearest wins (ties: the preferred direction, then the fewest points
   of drawn curves under it); a leader line joins label and anchor beyond 12 pt;
4. when none is allowed, an optional label (a decade) is hidden; a required one takes the
   candidate with the fewest collisions.

The legend goes, before any label, to the corner (of upper left, upper right, lower right,
lower left) with the fewest markers and curve points under it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox, IdentityTransform

__all__ = ["LabelPlacer", "placer", "text_boxes", "marker_points"]

#: Distances from the anchor tried, in points (nearest first).
RADII_PT = (3.0, 6.0, 10.0, 15.0, 22.0, 30.0, 40.0, 52.0, 66.0, 84.0, 105.0)
#: Beyond this distance (points) a leader line joins label and anchor.
LEADER_PT = 12.0
#: Directions, degrees counter-clockwise from +x, in order of preference.
DIRECTIONS = {
    "up": (90, 60, 120, 30, 150, 0, 180, 45, 135, 15, 165, -30, -150, -60, -120, -90),
    "right": (-30, 30, 0, -60, 60, 150, 180, -150, 90, -90, 120, -120, 15, -15, 165, -165),
}
#: Corners for a note, in order of preference: axes fractions and alignment.
CORNERS = ((0.98, 0.97, "right", "top"), (0.02, 0.97, "left", "top"),
           (0.98, 0.03, "right", "bottom"), (0.5, 0.97, "center", "top"),
           (0.02, 0.03, "left", "bottom"), (0.98, 0.5, "right", "center"))
#: Legend corners tried, in order of preference.
LEGEND_LOCS = ("upper left", "upper right", "lower right", "lower left")


@dataclass
class _Label:
    text: Any
    anchor: tuple[float, float]  # data coordinates
    prefer: str
    optional: bool
    leader: Line2D | None = None
    max_radius_pt: float = RADII_PT[-1]
    box: Bbox | None = field(default=None, repr=False)


class LabelPlacer(Artist):
    """An invisible artist that places an Axes' labels each time the figure is drawn.

    It is drawn before every other child of the Axes (lowest z-order), when the Axes'
    position and limits are final, and moves the labels it holds (annotations in offset
    points) to free places. Get one with :func:`placer`.
    """

    def __init__(self, ax: Any) -> None:
        super().__init__()
        self.set_zorder(-1e9)
        self.set_in_layout(False)
        self.labels: list[_Label] = []
        self.fixed: list[Any] = []  # texts to keep clear of (notes at a corner)
        self.legend: Any = None
        self.corners: list[Any] = []
        self._ax = ax

    def add(
        self, text: Any, anchor: tuple[float, float], *, prefer: str = "up",
        optional: bool = False, max_radius_pt: float = RADII_PT[-1],
    ) -> None:
        """Hold ``text`` (an Annotation whose ``xy`` is ``anchor`` in data coordinates, its
        text in offset points) for placement; ``optional`` labels may be hidden."""
        text.set_in_layout(False)
        text.set_ha("center")
        text.set_va("center")
        self.labels.append(_Label(text, (float(anchor[0]), float(anchor[1])), prefer,
                                  optional, max_radius_pt=max_radius_pt))

    def keep_clear(self, artist: Any) -> None:
        """Keep labels off ``artist`` (a Text placed by hand), which stays where it is."""
        artist.set_in_layout(False)
        self.fixed.append(artist)

    def add_corner(self, text: Any) -> None:
        """Put ``text`` (an annotation in axes fractions) in the corner of the Axes with the
        fewest markers under it (upper right first), and keep labels off it."""
        text.set_in_layout(False)
        self.corners.append(text)

    def set_legend(self, legend: Any) -> None:
        """Move ``legend`` to its freest corner when drawn, before the labels are placed."""
        self.legend = legend

    def get_window_extent(self, renderer: Any = None) -> Bbox:  # noqa: D102
        return Bbox.null()

    def draw(self, renderer: Any) -> None:  # noqa: D102
        try:
            self._place(renderer)
        except Exception:  # pragma: no cover - a plot must not fail on its labels
            for lab in self.labels:
                lab.text.set_visible(not lab.optional)
        self.stale = False

    # ------------------------------------------------------------------ internals
    def _obstacles(self, renderer: Any, axbox: Bbox) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(marker centres N×2, their radii N, curve points M×2), display pixels, in the box."""
        ax = self._ax
        px_per_pt = renderer.points_to_pixels(1.0)
        pts, rad, curve = [], [], []
        for line, disp in _line_points(ax, axbox):
            if line.get_gid() == "eisfit-leader":
                continue
            if _has_marker(line):
                r = 0.5 * float(line.get_markersize()) * px_per_pt + 1.0
                pts.append(disp)
                rad.append(np.full(len(disp), r))
            elif line.get_linestyle() not in ("None", "", " ", "none"):
                curve.append(disp)
        p = np.concatenate(pts) if pts else np.zeros((0, 2))
        r = np.concatenate(rad) if rad else np.zeros(0)
        c = np.concatenate(curve) if curve else np.zeros((0, 2))
        return p, r, c

    def _place_legend(self, renderer: Any, axbox: Bbox, p: np.ndarray, c: np.ndarray) -> None:
        leg = self.legend
        best, best_cost = None, math.inf
        set_loc = getattr(leg, "set_loc", None) or leg._set_loc
        for k, loc in enumerate(LEGEND_LOCS):
            set_loc(loc)
            bb = leg.get_window_extent(renderer)
            cost = (_count_in(bb, p, 2.0) * 10 + _count_in(bb, c, 0.0)
                    + sum(bb.overlaps(t.get_window_extent(renderer)) for t in self.fixed) * 1000)
            if cost < best_cost - 1e-9:
                best, best_cost = loc, cost
            if cost == 0 and k == 0:
                break
        set_loc(best)
        self.fixed_boxes.append(leg.get_window_extent(renderer))

    def _place_corner(self, note: Any, renderer: Any, p: np.ndarray) -> None:
        best, best_cost = None, math.inf
        for k, (fx, fy, ha, va) in enumerate(CORNERS):
            note.xyann = (fx, fy)
            note.set_ha(ha)
            note.set_va(va)
            bb = note.get_window_extent(renderer)
            cost = (_count_in(bb, p, 2.0) * 10
                    + sum(bb.overlaps(b) for b in self.fixed_boxes) * 1000 + k * 1e-3)
            if cost < best_cost:
                best, best_cost = (fx, fy, ha, va), cost
        fx, fy, ha, va = best
        note.xyann = (fx, fy)
        note.set_ha(ha)
        note.set_va(va)
        self.fixed_boxes.append(note.get_window_extent(renderer))

    def _place(self, renderer: Any) -> None:
        ax = self._ax
        axbox = ax.get_window_extent(renderer)
        p, r, c = self._obstacles(renderer, axbox)
        self.fixed_boxes: list[Bbox] = [t.get_window_extent(renderer) for t in self.fixed
                                        if t.get_visible()]
        if self.legend is not None:
            self._place_legend(renderer, axbox, p, c)
        for note in self.corners:
            self._place_corner(note, renderer, p)
        inner = Bbox.from_extents(axbox.x0 + 2, axbox.y0 + 2, axbox.x1 - 2, axbox.y1 - 2)
        ppt = renderer.points_to_pixels(1.0)
        placed: list[Bbox] = list(self.fixed_boxes)
        leaders: list[np.ndarray] = []
        for lab in self.labels:
            lab.text.set_visible(True)
            lab.text.xyann = (0.0, 0.0)
            size = lab.text.get_window_extent(renderer)
            w, h = size.width + 2.0, size.height + 2.0
            ax_, ay_ = ax.transData.transform(lab.anchor)
            if not (math.isfinite(ax_) and math.isfinite(ay_)):
                lab.text.set_visible(False)
                continue
            best = None  # (key, cx, cy, radius_pt)
            fallback = None
            for ri, rad_pt in enumerate(RADII_PT):
                if rad_pt > lab.max_radius_pt:
                    break
                for di, deg in enumerate(DIRECTIONS[lab.prefer]):
                    ca, sa = math.cos(math.radians(deg)), math.sin(math.radians(deg))
                    cx = ax_ + rad_pt * ppt * ca + 0.5 * w * ca
                    cy = ay_ + rad_pt * ppt * sa + 0.5 * h * sa
                    box = Bbox.from_extents(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                    clashes = (
                        (not _inside(box, inner)) * 100
                        + sum(box.overlaps(b) for b in placed) * 10
                        + _hits(box, p, r)
                    )
                    crossed = 0  # the leader's clashes: second to the box's own
                    if clashes == 0 and rad_pt > LEADER_PT:  # its leader crosses no label
                        seg = _segment(ax_, ay_, box)
                        crossed += sum(_count_in(b, seg, 0.0) > 0 for b in placed) * 10
                        crossed += sum(_crosses(seg, q) for q in leaders) * 10
                        away = np.hypot(seg[:, 0] - ax_, seg[:, 1] - ay_) > 6.0 * ppt
                        crossed += _hits_any(seg[away], p, r)  # nor a marker past its own
                    key = (clashes, crossed, ri, _count_in(box, c, 0.0) > 0, di)
                    if clashes + crossed == 0 and (best is None or key < best[0]):
                        best = (key, cx, cy, rad_pt)
                    if fallback is None or key < fallback[0]:
                        fallback = (key, cx, cy, rad_pt)
                if best is not None:
                    break
            if best is None and lab.optional:
                lab.text.set_visible(False)
                _leader(lab, None)
                continue
            chosen = best or fallback
            _, cx, cy, rad_pt = chosen
            lab.text.xyann = ((cx - ax_) / ppt, (cy - ay_) / ppt)
            lab.box = Bbox.from_extents(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            placed.append(lab.box)
            if rad_pt > LEADER_PT:
                _leader(lab, (ax_, ay_, lab.box))
                leaders.append(_segment(ax_, ay_, lab.box))
            else:
                _leader(lab, None)


def _segment(x: float, y: float, box: Bbox, n: int = 24) -> np.ndarray:
    """Points along a leader from (x, y) to the nearest point of ``box`` (pixels), ends
    excluded."""
    ex = min(max(x, box.x0), box.x1)
    ey = min(max(y, box.y0), box.y1)
    t = np.linspace(0.0, 1.0, n + 2)[1:-1, None]
    return np.hstack([x + t * (ex - x), y + t * (ey - y)])


def _crosses(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two leaders (as from :func:`_segment`) cross."""
    p, r = a[0], a[-1] - a[0]
    q, s = b[0], b[-1] - b[0]
    den = r[0] * s[1] - r[1] * s[0]
    if abs(den) < 1e-12:
        return False
    d = q - p
    t = (d[0] * s[1] - d[1] * s[0]) / den
    u = (d[0] * r[1] - d[1] * r[0]) / den
    return bool(0.0 <= t <= 1.0 and 0.0 <= u <= 1.0)


def _inside(box: Bbox, outer: Bbox) -> bool:
    return (box.x0 >= outer.x0 and box.x1 <= outer.x1 and box.y0 >= outer.y0
            and box.y1 <= outer.y1)


def _hits(box: Bbox, p: np.ndarray, r: np.ndarray) -> int:
    """Markers whose disc touches ``box``."""
    if p.size == 0:
        return 0
    dx = np.maximum(np.maximum(box.x0 - p[:, 0], p[:, 0] - box.x1), 0.0)
    dy = np.maximum(np.maximum(box.y0 - p[:, 1], p[:, 1] - box.y1), 0.0)
    return int(np.count_nonzero(dx * dx + dy * dy < r * r))


def _hits_any(seg: np.ndarray, p: np.ndarray, r: np.ndarray) -> int:
    """Markers that a leader (points along it) passes over."""
    if p.size == 0:
        return 0
    d2 = ((seg[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)
    return int(np.count_nonzero((d2 < (r * r)[None, :]).any(axis=0)))


def _count_in(box: Bbox, p: np.ndarray, pad: float) -> int:
    if p.size == 0:
        return 0
    return int(np.count_nonzero(
        (p[:, 0] > box.x0 - pad) & (p[:, 0] < box.x1 + pad)
        & (p[:, 1] > box.y0 - pad) & (p[:, 1] < box.y1 + pad)
    ))


def _leader(lab: _Label, where: tuple[float, float, Bbox] | None) -> None:
    """Draw (or hide) the thin line from a label's anchor to the nearest point of its box."""
    if where is None:
        if lab.leader is not None:
            lab.leader.set_visible(False)
        return
    x, y, box = where
    ex = min(max(x, box.x0), box.x1)
    ey = min(max(y, box.y0), box.y1)
    if lab.leader is None:
        ax = lab.text.axes
        lab.leader = Line2D([], [], lw=0.5, color="0.45", transform=IdentityTransform(),
                            gid="eisfit-leader", zorder=lab.text.get_zorder() - 0.5)
        lab.leader.set_in_layout(False)
        ax.add_artist(lab.leader)
    lab.leader.set_data([x, ex], [y, ey])
    lab.leader.set_visible(True)


def placer(ax: Any) -> LabelPlacer:
    """The :class:`LabelPlacer` of ``ax`` (made and added on first use)."""
    found = getattr(ax, "_eisfit_placer", None)
    if found is None:
        found = LabelPlacer(ax)
        ax.add_artist(found)
        ax._eisfit_placer = found
    return found


def text_boxes(fig: Any) -> list[tuple[Any, Bbox]]:
    """(text, window extent) of every visible, non-empty text label drawn inside the Axes of
    ``fig`` and of their legends, after ``fig.canvas.draw()`` (for tests and checks)."""
    out = []
    for ax in fig.axes:
        texts = list(ax.texts)
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            texts.extend(leg.get_texts())
        for t in texts:
            if t.get_visible() and t.get_text().strip():
                out.append((t, t.get_window_extent()))
    return out


def _has_marker(line: Line2D) -> bool:
    return line.get_marker() not in (None, "", "None", " ", "none")


def _line_points(ax: Any, box: Bbox) -> Iterator[tuple[Line2D, np.ndarray]]:
    """Each visible line of ``ax`` with its finite points inside ``box`` (display pixels)."""
    for line in ax.lines:
        if not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), float)
        if xy.size == 0:
            continue
        d = line.get_transform().transform(xy)
        keep = (np.all(np.isfinite(d), axis=1) & (d[:, 0] >= box.x0) & (d[:, 0] <= box.x1)
                & (d[:, 1] >= box.y0) & (d[:, 1] <= box.y1))
        yield line, d[keep]


def marker_points(ax: Any) -> np.ndarray:
    """Display positions (pixels) of the markers drawn inside ``ax``, after a draw."""
    pts = [d for line, d in _line_points(ax, ax.get_window_extent()) if _has_marker(line)]
    return np.concatenate(pts) if pts else np.zeros((0, 2))
