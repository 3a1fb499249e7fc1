"""The search index of delivery bodies (migration 0011): what is indexed, and what is not yet."""

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class DeliveryText(Base):
    """A delivery's body as searchable text: `encode(body, 'escape')`, which never fails on
    bytes that are not UTF-8. Its trigram index (ix_delivery_search_body_trgm) is made by
    migration 0011 only where pg_trgm exists, so it is not declared here."""

    __tablename__ = "delivery_search"

    id: Mapped[str] = mapped_column(
        Text, ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    body_text: Mapped[str] = mapped_column(Text)


class SearchBacklog(Base):
    """Deliveries stored but not indexed yet: a trigger on deliveries adds them, the indexer
    (app/inspector/indexer.py) takes them."""

    __tablename__ = "delivery_search_backlog"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
