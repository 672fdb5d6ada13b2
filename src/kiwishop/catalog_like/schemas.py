from __future__ import annotations

from pydantic import BaseModel


class LikeCountOut(BaseModel):
    productNo: int
    likeCount: int


class LikedOut(BaseModel):
    liked: bool
