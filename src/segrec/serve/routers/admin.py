"""``POST /admin/reload``: load another (or the same) model folder fully, then swap it in; a
folder that fails to load leaves the old model serving and answers 422 with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from segrec.serve._deps import HolderDep, require
from segrec.serve._schemas import ReloadIn

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require("admin"))])


@router.post("/reload")
async def reload(holder: HolderDep, body: ReloadIn | None = None) -> dict[str, Any]:
    target = Path(body.model_dir).expanduser() if body and body.model_dir else holder.model_dir
    return await run_in_threadpool(holder.reload, target.resolve())
