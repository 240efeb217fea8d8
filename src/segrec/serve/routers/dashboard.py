"""``GET /dashboard``: an offline page from the package's assets (no CDN): a card per
segment, the segment map, segment sizes over time, the drift verdict and an assign box. The page's data comes from the API with
the same key; a browser may pass the key once as ``?key=`` (the page then drops it from the
address bar and keeps it in session storage)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from segrec.serve._deps import HolderDep, StorageDep, require

router = APIRouter(tags=["dashboard"])
_ASSETS = resources.files("segrec.serve") / "assets"


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    dependencies=[Depends(require("read", allow_query=True))],
)
def dashboard() -> HTMLResponse:
    html = (_ASSETS / "dashboard.html").read_text(encoding="utf-8")
    js = (_ASSETS / "dashboard.js").read_text(encoding="utf-8")
    # inline: a <script src> request could not carry the API key header
    return HTMLResponse(
        html.replace("/*DASHBOARD_JS*/", js),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/dashboard/sizes", dependencies=[Depends(require("read"))])
def sizes(storage: StorageDep) -> dict[str, Any]:
    """Assignments handed out per hour and segment, from the stored assignments."""
    return {"bucket_s": 3600, "rows": storage.sizes_over_time(3600.0)}


@router.get("/dashboard/map", dependencies=[Depends(require("read"))])
def segment_map(holder: HolderDep) -> dict[str, Any]:
    """The model's segment map: anonymous 2-D points of fitted users (x, y, segment_id), the
    projection and axis names, and each segment's name (empty for a folder without a map)."""
    model = holder.model
    about = model.info.get("map") or {}
    pts = model.map_points
    points = (
        []
        if pts is None
        else [
            [round(float(x), 4), round(float(y), 4), int(s)]
            for x, y, s in zip(pts.x, pts.y, pts.segment_id, strict=True)
        ]
    )
    return {
        "projection": about.get("projection"),
        "axes": about.get("axes", ["", ""]),
        "points": points,
        "segments": [
            {"segment_id": int(sid), "name": str(name)}
            for sid, name in sorted(model.segment_names.items())
        ],
    }
